package web

import (
	"net/http"

	"github.com/kith-p2p/kith/web/api"
)

// handleUploads lists what peers are downloading from this node.
func (s *Server) handleUploads(w http.ResponseWriter, r *http.Request) {
	up, ok := s.backend.(api.Uploads)
	if !ok {
		writeError(w, &api.Error{Kind: api.KindUnavailable, Message: "this daemon does not report uploads"})
		return
	}
	list, err := up.Uploads(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, list)
}
