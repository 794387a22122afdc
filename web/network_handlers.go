package web

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/kith-p2p/kith/web/api"
)

func (s *Server) handlePeers(w http.ResponseWriter, r *http.Request) {
	peers, err := s.backend.Peers(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, peers)
}

func (s *Server) handleConnect(w http.ResponseWriter, r *http.Request) {
	addr := r.URL.Query().Get("addr")
	if addr == "" {
		writeError(w, fmt.Errorf("missing addr parameter: %w", api.ErrInvalid))
		return
	}
	info, err := s.backend.Connect(r.Context(), addr)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, info)
}

func (s *Server) handleFindProvs(w http.ResponseWriter, r *http.Request) {
	c, err := s.cidParam(r)
	if err != nil {
		writeError(w, err)
		return
	}
	max := 20
	if v := r.URL.Query().Get("max"); v != "" {
		if max, err = strconv.Atoi(v); err != nil || max < 1 {
			writeError(w, fmt.Errorf("max=%q is not a positive number: %w", v, api.ErrInvalid))
			return
		}
	}
	provs, err := s.backend.FindProviders(r.Context(), c, max)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, provs)
}

func (s *Server) handleFindPeer(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	if id == "" {
		writeError(w, fmt.Errorf("missing id parameter: %w", api.ErrInvalid))
		return
	}
	info, err := s.backend.FindPeer(r.Context(), id)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, info)
}

func (s *Server) handleDoctor(w http.ResponseWriter, r *http.Request) {
	d, err := s.backend.Doctor(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, d)
}

func (s *Server) handleTicket(w http.ResponseWriter, r *http.Request) {
	c, err := s.cidParam(r)
	if err != nil {
		writeError(w, err)
		return
	}
	t, err := s.backend.Ticket(r.Context(), c)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, t)
}
