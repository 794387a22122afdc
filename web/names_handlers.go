package web

import (
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/kith-p2p/kith/web/api"
)

// namesBackend is the backend's api.Names, or an answer that it has none.
func (s *Server) namesBackend(w http.ResponseWriter) (api.Names, bool) {
	ns, ok := s.backend.(api.Names)
	if !ok {
		writeError(w, &api.Error{Kind: api.KindUnavailable, Message: "this daemon has no IPNS names"})
	}
	return ns, ok
}

// handlePublishName points the IPNS name of this node's ?key= (self by
// default) to ?cid= (a CID, ticket, path or name, pinned here), valid for
// ?lifetime= and cached for ?ttl= (Go durations: 48h, 5m).
func (s *Server) handlePublishName(w http.ResponseWriter, r *http.Request) {
	ns, ok := s.namesBackend(w)
	if !ok {
		return
	}
	opts := api.NameOptions{Key: r.URL.Query().Get("key")}
	for param, d := range map[string]*time.Duration{"lifetime": &opts.Lifetime, "ttl": &opts.TTL} {
		v := r.URL.Query().Get(param)
		if v == "" {
			continue
		}
		var err error
		if *d, err = time.ParseDuration(v); err != nil || *d <= 0 {
			writeError(w, fmt.Errorf("parameter %s=%q is not a duration such as 48h or 5m: %w", param, v, api.ErrInvalid))
			return
		}
	}
	c, err := s.cidParam(r)
	if err != nil {
		writeError(w, err)
		return
	}
	rec, err := ns.PublishName(r.Context(), c, opts)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, rec)
}

// handleOwnName answers the IPNS record of this node's ?key= (self by
// default).
func (s *Server) handleOwnName(w http.ResponseWriter, r *http.Request) {
	ns, ok := s.namesBackend(w)
	if !ok {
		return
	}
	rec, err := ns.OwnName(r.Context(), r.URL.Query().Get("key"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, rec)
}

// handleResolveName answers what ?name= (an IPNS name or a DNSLink
// domain, maybe with a path after it) points to now.
func (s *Server) handleResolveName(w http.ResponseWriter, r *http.Request) {
	ns, ok := s.namesBackend(w)
	if !ok {
		return
	}
	name := r.URL.Query().Get("name")
	if name == "" {
		writeError(w, fmt.Errorf("missing name parameter: %w", api.ErrInvalid))
		return
	}
	p, err := ns.ResolveName(r.Context(), name)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, api.NamePath{Path: p})
}

// handleNameKeys lists this node's keys, self first, with their records.
func (s *Server) handleNameKeys(w http.ResponseWriter, r *http.Request) {
	ns, ok := s.namesBackend(w)
	if !ok {
		return
	}
	keys, err := ns.NameKeys(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, keys)
}

// handleNewNameKey makes the key ?key=, for one more name.
func (s *Server) handleNewNameKey(w http.ResponseWriter, r *http.Request) {
	ns, ok := s.namesBackend(w)
	if !ok {
		return
	}
	k, err := ns.NewNameKey(r.Context(), r.URL.Query().Get("key"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, k)
}

// maxKeyBytes bounds a key file sent to POST /names/keys/import.
const maxKeyBytes = 64 << 10

// handleImportNameKey stores the key file in the body as the key ?key=.
func (s *Server) handleImportNameKey(w http.ResponseWriter, r *http.Request) {
	ns, ok := s.namesBackend(w)
	if !ok {
		return
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxKeyBytes+1))
	if err != nil {
		writeError(w, fmt.Errorf("read the key file: %w", err))
		return
	}
	if len(b) > maxKeyBytes {
		writeError(w, &api.Error{Kind: api.KindInvalid, Message: fmt.Sprintf("not a key kith can import: the file is over %d KiB", maxKeyBytes>>10)})
		return
	}
	k, err := ns.ImportNameKey(r.Context(), r.URL.Query().Get("key"), b)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, k)
}

// handleRenameNameKey calls the key ?key= ?to= instead.
func (s *Server) handleRenameNameKey(w http.ResponseWriter, r *http.Request) {
	ns, ok := s.namesBackend(w)
	if !ok {
		return
	}
	q := r.URL.Query()
	k, err := ns.RenameNameKey(r.Context(), q.Get("key"), q.Get("to"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, k)
}

// handleRemoveNameKey deletes the key ?key= and its record.
func (s *Server) handleRemoveNameKey(w http.ResponseWriter, r *http.Request) {
	ns, ok := s.namesBackend(w)
	if !ok {
		return
	}
	if err := ns.RemoveNameKey(r.Context(), r.URL.Query().Get("key")); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, struct{}{})
}
