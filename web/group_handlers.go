package web

import (
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/web/api"
)

// maxTokenBytes bounds an invite token in a request body.
const maxTokenBytes = 16 << 10

// groupRoutes adds the group replication routes under p/groups.
func (s *Server) groupRoutes(m *routeMux, p string) {
	m.HandleFunc("POST "+p+"/groups/create", s.handleGroupCreate)
	m.HandleFunc("POST "+p+"/groups/join", s.handleGroupJoin)
	m.HandleFunc("POST "+p+"/groups/leave", s.handleGroupLeave)
	m.HandleFunc("GET "+p+"/groups/ls", s.handleGroups)
	m.HandleFunc("GET "+p+"/groups/members", s.handleGroupMembers)
	m.HandleFunc("POST "+p+"/groups/share", s.changingPins(s.handleGroupShare))
	m.HandleFunc("POST "+p+"/groups/unshare", s.handleGroupUnshare)
	m.HandleFunc("GET "+p+"/groups/status", s.handleGroupStatus)
	m.HandleFunc("GET "+p+"/groups/status/all", s.handleGroupStatuses)
	m.HandleFunc("POST "+p+"/groups/rename-me", s.handleGroupRenameMe)
	m.HandleFunc("POST "+p+"/groups/remove", s.handleGroupRemove)
	s.inviteRoutes(m, p)
	s.watchRoutes(m, p)
	s.mirrorRoutes(m, p)
}

// handleGroupRemove removes a member (?member=) from a group (?group=).
func (s *Server) handleGroupRemove(w http.ResponseWriter, r *http.Request) {
	g, err := groupParam(r)
	if err != nil {
		writeError(w, err)
		return
	}
	member := r.URL.Query().Get("member")
	if member == "" {
		writeError(w, fmt.Errorf("missing member parameter: %w", api.ErrInvalid))
		return
	}
	res, err := s.backend.GroupRemove(r.Context(), g, member)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, res)
}

// handleGroupRenameMe sets this device's name (?name=), in one group
// (?group=) or in all.
func (s *Server) handleGroupRenameMe(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	if name == "" {
		writeError(w, fmt.Errorf("missing name parameter: %w", api.ErrInvalid))
		return
	}
	res, err := s.backend.GroupRenameMe(r.Context(), name, r.URL.Query().Get("group"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, res)
}

// groupParam is the required "group" query parameter (a name or an ID).
func groupParam(r *http.Request) (string, error) {
	g := r.URL.Query().Get("group")
	if g == "" {
		return "", fmt.Errorf("missing group parameter: %w", api.ErrInvalid)
	}
	return g, nil
}

func (s *Server) handleGroupCreate(w http.ResponseWriter, r *http.Request) {
	g, err := groupParam(r)
	if err != nil {
		writeError(w, err)
		return
	}
	inv, err := s.backend.GroupCreate(r.Context(), g)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, inv)
}

// handleGroupJoin reads the token from the body, never the URL: URLs end
// up in logs and histories, and the token is a password.
func (s *Server) handleGroupJoin(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxTokenBytes+1))
	if err != nil {
		writeError(w, fmt.Errorf("read invite token: %v: %w", err, api.ErrInvalid))
		return
	}
	if len(b) == 0 || len(b) > maxTokenBytes {
		writeError(w, fmt.Errorf("send the invite token (at most %d bytes) as the request body: %w", maxTokenBytes, api.ErrInvalid))
		return
	}
	g, err := s.backend.GroupJoin(r.Context(), string(b))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, g)
}

func (s *Server) handleGroupLeave(w http.ResponseWriter, r *http.Request) {
	g, err := groupParam(r)
	if err != nil {
		writeError(w, err)
		return
	}
	if err := s.backend.GroupLeave(r.Context(), g); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, map[string]string{"group": g})
}

func (s *Server) handleGroups(w http.ResponseWriter, r *http.Request) {
	gs, err := s.backend.Groups(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, gs)
}

func (s *Server) handleGroupMembers(w http.ResponseWriter, r *http.Request) {
	g, err := groupParam(r)
	if err != nil {
		writeError(w, err)
		return
	}
	ms, err := s.backend.GroupMembers(r.Context(), g)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, ms)
}

func (s *Server) handleGroupShare(w http.ResponseWriter, r *http.Request) {
	g, c, err := s.groupAndCID(r)
	if err != nil {
		writeError(w, err)
		return
	}
	copies, err := copiesParam(r)
	if err != nil {
		writeError(w, err)
		return
	}
	replace := false
	if v := r.URL.Query().Get("replace"); v != "" {
		if replace, err = strconv.ParseBool(v); err != nil {
			writeError(w, fmt.Errorf("replace=%q is not true or false: %w", v, api.ErrInvalid))
			return
		}
	}
	keep, err := keepParam(r)
	if err != nil {
		writeError(w, err)
		return
	}
	in, err := s.backend.GroupShare(r.Context(), g, c, api.ShareOptions{Copies: copies, Replace: replace, Path: r.URL.Query().Get("path"), Keep: keep})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, in)
}

func (s *Server) handleGroupUnshare(w http.ResponseWriter, r *http.Request) {
	g, c, err := s.groupAndCID(r)
	if err != nil {
		writeError(w, err)
		return
	}
	if err := s.backend.GroupUnshare(r.Context(), g, c); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, map[string]string{"group": g, "cid": c.String()})
}

func (s *Server) handleGroupStatus(w http.ResponseWriter, r *http.Request) {
	c, err := s.cidParam(r)
	if err != nil {
		writeError(w, err)
		return
	}
	st, err := s.backend.GroupStatus(r.Context(), c)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, st)
}

// handleGroupStatuses answers the status of every shared root at once.
func (s *Server) handleGroupStatuses(w http.ResponseWriter, r *http.Request) {
	st, err := s.backend.GroupStatuses(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, st)
}

func (s *Server) groupAndCID(r *http.Request) (string, cid.Cid, error) {
	g, err := groupParam(r)
	if err != nil {
		return "", cid.Undef, err
	}
	c, err := s.cidParam(r)
	return g, c, err
}

// copiesParam is the "copies" query parameter, a number.
func copiesParam(r *http.Request) (int, error) {
	v := r.URL.Query().Get("copies")
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("copies=%q is not a number: %w", v, api.ErrInvalid)
	}
	return n, nil
}
