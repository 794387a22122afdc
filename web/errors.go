package web

import (
	"encoding/json"
	"net/http"

	"github.com/kith-p2p/kith/web/api"
)

func writeError(w http.ResponseWriter, err error) {
	writeErrorStatus(w, api.KindOf(err).Status(), err)
}

func writeErrorStatus(w http.ResponseWriter, status int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(api.ErrorBody{Error: api.Sentence(err), Kind: api.KindOf(err)})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_ = json.NewEncoder(w).Encode(v)
}
