package web

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	"github.com/kith-p2p/kith/web/api"
)

// watchRoutes adds the routes of shares that follow their folders
// (kith share --watch, kith watch).
func (s *Server) watchRoutes(m *routeMux, p string) {
	m.HandleFunc("POST "+p+"/groups/watch", s.handleGroupWatch)
	m.HandleFunc("GET "+p+"/groups/watches", s.handleGroupWatches)
	m.HandleFunc("POST "+p+"/groups/unwatch", s.handleGroupUnwatch)
}

// handleGroupWatch has the share of ?cid= in ?group= follow the folder at
// ?path= (with ?copies=, any ?exclude= and ?keep=), added by an add that
// started at ?since= (RFC 3339).
func (s *Server) handleGroupWatch(w http.ResponseWriter, r *http.Request) {
	g, err := groupParam(r)
	if err != nil {
		writeError(w, err)
		return
	}
	q := r.URL.Query()
	path, err := absPathParam(q.Get("path"))
	if err != nil {
		writeError(w, err)
		return
	}
	copies, err := copiesParam(r)
	if err != nil {
		writeError(w, err)
		return
	}
	since, err := time.Parse(time.RFC3339Nano, q.Get("since"))
	if err != nil {
		writeError(w, fmt.Errorf("since=%q is not a time (RFC 3339): %w", q.Get("since"), api.ErrInvalid))
		return
	}
	keep, err := keepParam(r)
	if err != nil {
		writeError(w, err)
		return
	}
	res, err := s.backend.GroupWatch(r.Context(), g, path, api.WatchOptions{Copies: copies, Exclude: q["exclude"], Cid: q.Get("cid"), Since: since, Keep: keep})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, res)
}

func (s *Server) handleGroupWatches(w http.ResponseWriter, r *http.Request) {
	ws, err := s.backend.GroupWatches(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, ws)
}

// handleGroupUnwatch stops following ?path= in ?group= (every group when
// left out).
func (s *Server) handleGroupUnwatch(w http.ResponseWriter, r *http.Request) {
	path, err := absPathParam(r.URL.Query().Get("path"))
	if err != nil {
		writeError(w, err)
		return
	}
	gone, err := s.backend.GroupUnwatch(r.Context(), r.URL.Query().Get("group"), path)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, gone)
}

// absPathParam checks a path parameter: given, and absolute.
func absPathParam(p string) (string, error) {
	switch {
	case p == "":
		return "", fmt.Errorf("missing path parameter: %w", api.ErrInvalid)
	case !filepath.IsAbs(p):
		return "", fmt.Errorf("path %q must be absolute: %w", p, api.ErrInvalid)
	}
	return filepath.Clean(p), nil
}

// keepParam is ?keep=, how many versions before the newest the group keeps
// shared too (left out: 0).
func keepParam(r *http.Request) (int, error) {
	k := r.URL.Query().Get("keep")
	if k == "" {
		return 0, nil
	}
	keep, err := strconv.Atoi(k)
	if err != nil {
		return 0, fmt.Errorf("keep=%q is not a number of versions: %w", k, api.ErrInvalid)
	}
	return keep, nil
}
