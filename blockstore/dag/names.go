package dag

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
)

// ErrUnsafeName matches (with errors.Is) every error about a directory entry
// name that could escape or confuse the output folder: empty, ".", "..",
// containing "/", "\" or NUL. DAGs come from untrusted peers, so WriteTo
// checks every name before touching the disk, and Add refuses to create
// such entries in the first place.
var ErrUnsafeName = errors.New("unsafe entry name")

// UnsafeNameError is the error for one refused name.
type UnsafeNameError struct {
	Name   string // the name as found in the DAG
	Reason string
}

// Error names the refused entry and says why.
func (e *UnsafeNameError) Error() string {
	return fmt.Sprintf("%s %q: %s", ErrUnsafeName, e.Name, e.Reason)
}

// Is makes errors.Is(err, ErrUnsafeName) true.
func (e *UnsafeNameError) Is(target error) bool { return target == ErrUnsafeName }

// CheckName returns an *UnsafeNameError if name is not a single, plain path
// element on every platform kith runs on. Backslashes are refused even on
// Unix so a DAG written on Linux cannot become a traversal on Windows; an
// absolute path always contains a separator, so it is covered too.
func CheckName(name string) error {
	reason := ""
	switch {
	case name == "":
		reason = "empty"
	case name == "." || name == "..":
		reason = "refers to a folder itself or its parent"
	case strings.ContainsAny(name, `/\`):
		reason = "contains a path separator"
	case strings.ContainsRune(name, 0):
		reason = "contains a NUL byte"
	case runtime.GOOS == "windows" && strings.ContainsRune(name, ':'):
		// "C:x" is drive-relative and "x:y" an alternate data stream.
		reason = "contains a colon"
	default:
		return nil
	}
	return &UnsafeNameError{Name: name, Reason: reason}
}
