package api

import (
	"errors"
	"net/http"
	"strings"
)

// Kind sorts errors into the few classes a client acts on differently.
type Kind string

const (
	KindNotFound    Kind = "not_found"
	KindInvalid     Kind = "invalid"
	KindPermission  Kind = "permission"
	KindUnavailable Kind = "unavailable"
	KindDiskFull    Kind = "disk_full"
	KindInternal    Kind = "internal"
)

// Sentinels the daemon wraps its errors with so the API can classify them.
// A blockstore miss (blockstore.ErrNotFound) is classified by the server too.
var (
	ErrInvalid     = errors.New("invalid input")
	ErrPermission  = errors.New("permission denied")
	ErrUnavailable = errors.New("unavailable")
)

// Sentence is err's message as a user reads it: without the sentinels
// above, which the daemon appends (": invalid input") only so the API can
// classify the error; its Kind says the same to a program.
func Sentence(err error) string {
	msg := err.Error()
	for trimmed := true; trimmed; {
		trimmed = false
		for _, s := range []error{ErrInvalid, ErrPermission, ErrUnavailable} {
			if t, ok := strings.CutSuffix(msg, ": "+s.Error()); ok && t != "" {
				msg, trimmed = t, true
			}
		}
	}
	return msg
}

// Status maps a kind to its HTTP status.
func (k Kind) Status() int {
	switch k {
	case KindNotFound:
		return http.StatusNotFound
	case KindInvalid:
		return http.StatusBadRequest
	case KindPermission:
		return http.StatusForbidden
	case KindUnavailable:
		return http.StatusServiceUnavailable
	case KindDiskFull:
		return http.StatusInsufficientStorage
	default:
		return http.StatusInternalServerError
	}
}

// Error is an error received from the API: the daemon's message and its kind.
type Error struct {
	Kind    Kind
	Message string
}

func (e *Error) Error() string { return e.Message }
