package mirror

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"

	"github.com/kith-p2p/kith/blockstore"
)

// FailedFile is a file or folder of the version that could not be
// written here, or one gone from it that could not be removed
// (Removing), and why.
type FailedFile struct {
	Path     string // slash separated, from the folder's top
	Err      error
	Removing bool
}

// Reason is why, in a few words ("file name too long", "not removed:
// permission denied"), without the paths the error repeats.
func (f FailedFile) Reason() string {
	why := f.Err.Error()
	var pe *fs.PathError
	var le *os.LinkError
	if errors.As(f.Err, &pe) {
		why = pe.Err.Error()
	} else if errors.As(f.Err, &le) {
		why = le.Err.Error()
	}
	if f.Removing {
		return "not removed: " + why
	}
	return why
}

// FilesError is Apply's error when it wrote the version except Count of
// its files and folders (Failed names the first): the folder could not
// take those (or let go of those the version no longer has), and holds
// the others. It unwraps to the first one's error.
type FilesError struct {
	Failed []FailedFile
	Count  int
}

func (e *FilesError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "could not update %d of its files here: ", e.Count)
	for i, f := range e.Failed {
		if i == 3 {
			fmt.Fprintf(&b, "; and %d more", e.Count-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s (%s)", f.Path, f.Reason())
	}
	b.WriteString(" (the others are up to date; these are tried again later)")
	return b.String()
}

func (e *FilesError) Unwrap() error {
	if len(e.Failed) == 0 {
		return nil
	}
	return e.Failed[0].Err
}

// fetchError is an error getting the version's bytes, not writing them.
type fetchError struct{ err error }

func (e fetchError) Error() string { return e.err.Error() }
func (e fetchError) Unwrap() error { return e.err }

// stops reports whether err, met writing one entry of the version, ends
// the update rather than that entry alone: the update was stopped, the
// version's bytes could not be had (its holders away: every other file
// would wait as long), the disk is full, read-only or failing, or the
// folder itself is gone.
func (a *applier) stops(err error) bool {
	var fe fetchError
	switch {
	case a.ctx.Err() != nil, errors.As(err, &fe),
		errors.Is(err, blockstore.ErrNotFound), errors.Is(err, blockstore.ErrFileChanged),
		errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT),
		errors.Is(err, syscall.EROFS), errors.Is(err, syscall.EIO):
		return true
	}
	st, serr := os.Stat(a.dir)
	return serr != nil || !st.IsDir()
}
