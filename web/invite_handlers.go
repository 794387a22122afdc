package web

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/kith-p2p/kith/web/api"
)

// inviteRoutes adds the invite routes under p/groups.
func (s *Server) inviteRoutes(m *routeMux, p string) {
	m.HandleFunc("POST "+p+"/groups/invite", s.handleGroupInvite)
	m.HandleFunc("GET "+p+"/groups/invites", s.handleGroupInvites)
	m.HandleFunc("POST "+p+"/groups/invites/revoke", s.handleGroupRevokeInvites)
}

// handleGroupInvite makes an invite (?group=, ?expires= a Go duration,
// ?uses=).
func (s *Server) handleGroupInvite(w http.ResponseWriter, r *http.Request) {
	g, err := groupParam(r)
	if err != nil {
		writeError(w, err)
		return
	}
	var ttl time.Duration
	if v := r.URL.Query().Get("expires"); v != "" {
		if ttl, err = time.ParseDuration(v); err != nil || ttl <= 0 {
			writeError(w, fmt.Errorf("expires %q: give a duration such as 24h: %w", v, api.ErrInvalid))
			return
		}
	}
	uses := 0
	if v := r.URL.Query().Get("uses"); v != "" {
		if uses, err = strconv.Atoi(v); err != nil || uses < 0 {
			writeError(w, fmt.Errorf("uses %q: give a number, 0 for any: %w", v, api.ErrInvalid))
			return
		}
	}
	inv, err := s.backend.GroupInvite(r.Context(), g, ttl, uses)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, inv)
}

func (s *Server) handleGroupInvites(w http.ResponseWriter, r *http.Request) {
	g, err := groupParam(r)
	if err != nil {
		writeError(w, err)
		return
	}
	invs, err := s.backend.GroupInvites(r.Context(), g)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, invs)
}

func (s *Server) handleGroupRevokeInvites(w http.ResponseWriter, r *http.Request) {
	g, err := groupParam(r)
	if err != nil {
		writeError(w, err)
		return
	}
	id := r.URL.Query().Get("id")
	if id == "" {
		writeError(w, fmt.Errorf("missing id parameter (an invite ID, or all): %w", api.ErrInvalid))
		return
	}
	n, err := s.backend.GroupRevokeInvites(r.Context(), g, id)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, map[string]int{"revoked": n})
}
