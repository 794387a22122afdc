package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"syscall"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/web/api"
)

// classify sorts an error from the backend into an API kind.
func classify(err error) api.Kind {
	var ae *api.Error
	switch {
	case errors.As(err, &ae):
		return ae.Kind
	case errors.Is(err, syscall.ENOSPC):
		return api.KindDiskFull
	case errors.Is(err, blockstore.ErrNotFound):
		return api.KindNotFound
	case errors.Is(err, api.ErrInvalid):
		return api.KindInvalid
	case errors.Is(err, api.ErrPermission), errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return api.KindPermission
	case errors.Is(err, api.ErrUnavailable), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return api.KindUnavailable
	}
	return api.KindInternal
}

func writeError(w http.ResponseWriter, err error) {
	writeErrorStatus(w, classify(err).Status(), err)
}

func writeErrorStatus(w http.ResponseWriter, status int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(api.ErrorBody{Error: api.Sentence(err), Kind: classify(err)})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_ = json.NewEncoder(w).Encode(v)
}
