package web

import (
	"fmt"
	"net/http"
	"time"

	"github.com/kith-p2p/kith/web/api"
)

// mirrorRoutes adds the routes of folders that follow what a group shares
// (kith get --follow, kith mirror).
func (s *Server) mirrorRoutes(m *routeMux, p string) {
	m.HandleFunc("POST "+p+"/groups/mirror", s.handleGroupMirror)
	m.HandleFunc("GET "+p+"/groups/mirrors", s.handleGroupMirrors)
	m.HandleFunc("POST "+p+"/groups/unmirror", s.handleGroupUnmirror)
	m.HandleFunc("POST "+p+"/groups/mirror/revert", s.handleGroupMirrorRevert)
	m.HandleFunc("POST "+p+"/groups/sync", s.handleGroupSync)
	m.HandleFunc("POST "+p+"/groups/pause", s.handleGroupPause(true))
	m.HandleFunc("POST "+p+"/groups/resume", s.handleGroupPause(false))
}

// handleGroupPause pauses (or resumes) the followed or watched folder
// ?path=.
func (s *Server) handleGroupPause(paused bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		path, err := absPathParam(r.URL.Query().Get("path"))
		if err != nil {
			writeError(w, err)
			return
		}
		res, err := s.backend.GroupPause(r.Context(), path, paused)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, res)
	}
}

// handleGroupSync has the folder at ?path=, holding the version ?cid= of
// what ?group= shares as ?name= (shared from it, or written by a get that
// started at ?since=, RFC 3339), sync both ways, its changes shared with
// ?copies= (left out: as ?cid= is), ?keep= versions before the newest kept
// shared too.
func (s *Server) handleGroupSync(w http.ResponseWriter, r *http.Request) {
	g, path, err := groupFolderParams(r)
	if err != nil {
		writeError(w, err)
		return
	}
	q := r.URL.Query()
	copies := 0
	if q.Get("copies") != "" {
		if copies, err = copiesParam(r); err != nil {
			writeError(w, err)
			return
		}
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
	res, err := s.backend.GroupSync(r.Context(), g, q.Get("name"), path, q.Get("cid"), copies, keep, since)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, res)
}

// handleGroupMirror has the folder at ?path=, holding the version ?cid= of
// what ?group= shares as ?name=, follow that name, leaving out what each
// ?exclude= names.
func (s *Server) handleGroupMirror(w http.ResponseWriter, r *http.Request) {
	g, path, err := groupFolderParams(r)
	if err != nil {
		writeError(w, err)
		return
	}
	q := r.URL.Query()
	res, err := s.backend.GroupMirror(r.Context(), g, q.Get("name"), path, q.Get("cid"), q["exclude"])
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, res)
}

func (s *Server) handleGroupMirrors(w http.ResponseWriter, r *http.Request) {
	ms, err := s.backend.GroupMirrors(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, ms)
}

// handleGroupMirrorRevert has the group's version written again over what
// was changed in the followed folder ?path=.
func (s *Server) handleGroupMirrorRevert(w http.ResponseWriter, r *http.Request) {
	path, err := absPathParam(r.URL.Query().Get("path"))
	if err != nil {
		writeError(w, err)
		return
	}
	m, err := s.backend.GroupMirrorRevert(r.Context(), path)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, m)
}

// handleGroupUnmirror stops following into ?path= (its files stay).
func (s *Server) handleGroupUnmirror(w http.ResponseWriter, r *http.Request) {
	path, err := absPathParam(r.URL.Query().Get("path"))
	if err != nil {
		writeError(w, err)
		return
	}
	gone, err := s.backend.GroupUnmirror(r.Context(), path)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, gone)
}

// groupFolderParams reads ?group=, ?path= (absolute) and checks ?name=:
// a folder and the name a group shares it as.
func groupFolderParams(r *http.Request) (group, path string, err error) {
	if group, err = groupParam(r); err != nil {
		return "", "", err
	}
	q := r.URL.Query()
	if path, err = absPathParam(q.Get("path")); err != nil {
		return "", "", err
	}
	if q.Get("name") == "" {
		return "", "", fmt.Errorf("missing name parameter (what the group shares it as): %w", api.ErrInvalid)
	}
	return group, path, nil
}
