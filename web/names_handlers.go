package web

import (
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/kith-p2p/kith/web/api"
)

// namesRoute serves a /names route: with the backend's api.Names (or an
// answer that it has none), handle's answer as JSON, or its error.
func (s *Server) namesRoute(handle func(ns api.Names, r *http.Request) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ns, ok := s.backend.(api.Names)
		if !ok {
			writeError(w, &api.Error{Kind: api.KindUnavailable, Message: "this daemon has no IPNS names"})
			return
		}
		v, err := handle(ns, r)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, v)
	}
}

// publishName points the IPNS name of this node's ?key= (self by default)
// to ?cid= (a CID, ticket, path or name, pinned here), valid for
// ?lifetime= and cached for ?ttl= (Go durations: 48h, 5m).
func (s *Server) publishName(ns api.Names, r *http.Request) (any, error) {
	opts := api.NameOptions{Key: r.URL.Query().Get("key")}
	for param, d := range map[string]*time.Duration{"lifetime": &opts.Lifetime, "ttl": &opts.TTL} {
		v := r.URL.Query().Get(param)
		if v == "" {
			continue
		}
		var err error
		if *d, err = time.ParseDuration(v); err != nil || *d <= 0 {
			return nil, fmt.Errorf("parameter %s=%q is not a duration such as 48h or 5m: %w", param, v, api.ErrInvalid)
		}
	}
	c, err := s.cidParam(r)
	if err != nil {
		return nil, err
	}
	return ns.PublishName(r.Context(), c, opts)
}

// ownName answers the IPNS record of this node's ?key= (self by default).
func ownName(ns api.Names, r *http.Request) (any, error) {
	return ns.OwnName(r.Context(), r.URL.Query().Get("key"))
}

// resolveName answers what ?name= (an IPNS name or a DNSLink domain,
// maybe with a path after it) points to now.
func resolveName(ns api.Names, r *http.Request) (any, error) {
	name := r.URL.Query().Get("name")
	if name == "" {
		return nil, fmt.Errorf("missing name parameter: %w", api.ErrInvalid)
	}
	p, err := ns.ResolveName(r.Context(), name)
	if err != nil {
		return nil, err
	}
	return api.NamePath{Path: p}, nil
}

// nameKeys lists this node's keys, self first, with their records.
func nameKeys(ns api.Names, r *http.Request) (any, error) {
	return ns.NameKeys(r.Context())
}

// newNameKey makes the key ?key=, for one more name.
func newNameKey(ns api.Names, r *http.Request) (any, error) {
	return ns.NewNameKey(r.Context(), r.URL.Query().Get("key"))
}

// maxKeyBytes bounds a key file sent to POST /names/keys/import.
const maxKeyBytes = 64 << 10

// importNameKey stores the key file in the body as the key ?key=.
func importNameKey(ns api.Names, r *http.Request) (any, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxKeyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read the key file: %w", err)
	}
	if len(b) > maxKeyBytes {
		return nil, &api.Error{Kind: api.KindInvalid, Message: fmt.Sprintf("not a key kith can import: the file is over %d KiB", maxKeyBytes>>10)}
	}
	return ns.ImportNameKey(r.Context(), r.URL.Query().Get("key"), b)
}

// renameNameKey calls the key ?key= ?to= instead.
func renameNameKey(ns api.Names, r *http.Request) (any, error) {
	q := r.URL.Query()
	return ns.RenameNameKey(r.Context(), q.Get("key"), q.Get("to"))
}

// removeNameKey deletes the key ?key= and its record.
func removeNameKey(ns api.Names, r *http.Request) (any, error) {
	return struct{}{}, ns.RemoveNameKey(r.Context(), r.URL.Query().Get("key"))
}
