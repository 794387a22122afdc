package api

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/kith-p2p/kith/blockstore"
)

// Kind sorts errors into the few classes a client acts on differently.
type Kind string

const (
	KindNotFound    Kind = "not_found"
	KindInvalid     Kind = "invalid"
	KindPermission  Kind = "permission"
	KindUnavailable Kind = "unavailable"
	KindDiskFull    Kind = "disk_full"
	// KindConflict: the request does not fit the state of what it names
	// (pausing a transfer that has ended, resuming one that runs).
	KindConflict Kind = "conflict"
	KindInternal Kind = "internal"
)

// Sentinels the daemon wraps its errors with so the API can classify them.
// A blockstore miss (blockstore.ErrNotFound) is classified by the server too.
var (
	ErrInvalid     = errors.New("invalid input")
	ErrPermission  = errors.New("permission denied")
	ErrUnavailable = errors.New("unavailable")
)

// KindOf sorts an error into a Kind: the one place the daemon's errors
// meet the API's vocabulary (the server's status codes and streamed error
// events, and the CLI's --json errors, all use it).
func KindOf(err error) Kind {
	var ae *Error
	switch {
	case errors.As(err, &ae):
		return ae.Kind
	case errors.Is(err, syscall.ENOSPC):
		return KindDiskFull
	case errors.Is(err, blockstore.ErrNotFound):
		return KindNotFound
	case errors.Is(err, ErrInvalid):
		return KindInvalid
	case errors.Is(err, ErrPermission), errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return KindPermission
	case errors.Is(err, ErrUnavailable), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return KindUnavailable
	}
	return KindInternal
}

// Sentence is err's message as a user reads it: without the sentinels
// above, nor blockstore.ErrNotFound, which the daemon appends (": invalid
// input", ": not found") only so the API can classify the error; its Kind
// says the same to a program. Only a sentinel err wraps is cut, once: the
// system's own reason reads the same ("add x: permission denied", EACCES)
// and stays, as it is the only reason given.
func Sentence(err error) string {
	msg := err.Error()
	sentinels := []error{ErrInvalid, ErrPermission, ErrUnavailable, blockstore.ErrNotFound}
	for trimmed := true; trimmed; {
		trimmed = false
		for i, s := range sentinels {
			if s == nil || !errors.Is(err, s) {
				continue
			}
			if t, ok := strings.CutSuffix(msg, ": "+s.Error()); ok && t != "" {
				msg, trimmed, sentinels[i] = t, true, nil
			}
		}
	}
	return msg
}

// PathReason returns why a file-system call failed, without the call's
// name and path (fs.PathError's Err; other errors as they are), for a
// message that names the path itself: "add notes.txt: no such file or
// directory", not "add notes.txt: lstat notes.txt: no such file or
// directory". The reason keeps its errno, so KindOf still sorts it.
func PathReason(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Unreadable adds to err, an add's of top that met a file or folder in it
// that it may not read (a permission error naming it), what to do about
// it; other errors, and one about top itself, are returned as they are.
func Unreadable(err error, top string) error {
	var pe *fs.PathError
	if !errors.Is(err, fs.ErrPermission) || !errors.As(err, &pe) || filepath.Clean(pe.Path) == filepath.Clean(top) {
		return err
	}
	return fmt.Errorf("%w: %s %s", err, unreadableHint, filepath.Base(pe.Path))
}

// unreadableHint is what Unreadable adds (IsUnreadableInside finds it).
const unreadableHint = "make it readable, or leave it out with --exclude"

// IsUnreadableInside reports whether msg, an error's, is Unreadable's
// about a file or folder inside what was added (not the top itself).
func IsUnreadableInside(msg string) bool { return strings.Contains(msg, unreadableHint) }

// InRepo says why a path inside kith's own repo (the folder repo) is not
// added: the daemon and the client both leave the repo out.
func InRepo(repo string) error {
	return fmt.Errorf("it is in kith's own repo (%s), which holds this node's private key and every block it stores; kith leaves the repo out of what it adds: %w", repo, ErrInvalid)
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
	case KindConflict:
		return http.StatusConflict
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
