package web

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/web/api"
)

// maxCodeBytes bounds a code sent to /codes/resolve.
const maxCodeBytes = 256

// handleOpenCode opens a short code for ?cid= while the request lasts: the
// answer is the line {"code"}, then, if the daemon closes the code first,
// the line {"error"} and the end of the answer.
func (s *Server) handleOpenCode(w http.ResponseWriter, r *http.Request) {
	cs, ok := s.backend.(api.Codes)
	if !ok {
		writeError(w, &api.Error{Kind: api.KindUnavailable, Message: "this daemon has no short codes"})
		return
	}
	c, err := cid.Decode(r.URL.Query().Get("cid"))
	if err != nil {
		writeError(w, fmt.Errorf("open a code: give the cid of content added here: %w", api.ErrInvalid))
		return
	}
	code, closed, err := cs.OpenCode(r.Context(), c)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	_ = enc.Encode(api.Code{Code: code})
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	select {
	case <-r.Context().Done():
	case err := <-closed:
		_ = enc.Encode(api.ErrorBody{Error: api.Sentence(err), Kind: api.KindOf(err)})
	}
}

// handleResolveCode finds the sender of the code in the body (never the
// URL: a code is a password while it is open) and answers its ticket.
func (s *Server) handleResolveCode(w http.ResponseWriter, r *http.Request) {
	cs, ok := s.backend.(api.Codes)
	if !ok {
		writeError(w, &api.Error{Kind: api.KindUnavailable, Message: "this daemon has no short codes"})
		return
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxCodeBytes+1))
	if err != nil || len(b) == 0 || len(b) > maxCodeBytes {
		writeError(w, fmt.Errorf("send the code (at most %d bytes) as the request body: %w", maxCodeBytes, api.ErrInvalid))
		return
	}
	t, err := cs.ResolveCode(r.Context(), string(b))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, api.CodeTicket{Ticket: t})
}
