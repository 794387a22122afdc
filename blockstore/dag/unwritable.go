package dag

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
)

// What a disk cannot hold: macOS's and Windows' file systems, a memory
// stick's FAT or exFAT refuse some of what a folder shared from another
// system holds (see also fold.go, names that differ only in case).

// ErrNameRefused matches (with errors.Is) the error for an entry whose
// name the file system does not take: one too long, one with a character
// it refuses (FAT, exFAT and Windows take no " * : < > ? \ |).
var ErrNameRefused = errors.New("this file system does not take the name")

// ErrNoSymlink matches (with errors.Is) the error for a symbolic link the
// file system (FAT, exFAT) or the user (Windows without Developer Mode)
// cannot make.
var ErrNoSymlink = errors.New("the symbolic link could not be made")

// ErrTooBig matches (with errors.Is) the error for a file larger than
// the file system holds (FAT32's 4 GiB).
var ErrTooBig = errors.New("the file is larger than this file system holds")

// errTooBig is ErrTooBig, with what holds larger files.
var errTooBig = fmt.Errorf("%w (FAT32 holds files up to 4 GiB; exFAT, NTFS, APFS and ext4 hold larger ones)", ErrTooBig)

// WithUnwritable has WriteTo leave out each entry of a folder that the
// file system cannot hold where it goes, and write the rest: a name that
// differs only in case from one written before it in the folder (the
// first in the folder's order is written; the error matches
// ErrCaseClash), a name it refuses (one with a character FAT, exFAT and
// Windows do not take, one too long: ErrNameRefused), a file larger
// than it holds (FAT32's 4 GiB: ErrTooBig, what was written of it
// removed), a symbolic link where none can be made (FAT, exFAT, a Windows
// user without Developer Mode: ErrNoSymlink). Each is handed to left with
// its slash path in the DAG and why. Without it, the first such entry
// fails the write, its error saying how to get the rest (--exclude).
func WithUnwritable(left func(rel string, why error)) WriteOption {
	return func(o *writeOpts) { o.unwritable = left }
}

// cannotHold is the error of an entry the file system cannot hold where
// it goes (why), which WithUnwritable leaves out.
type cannotHold struct{ why error }

func (c cannotHold) Error() string { return c.why.Error() }
func (c cannotHold) Unwrap() error { return c.why }

// leaveOut is what becomes of the entry rel the file system cannot hold
// (why): left out and handed on (WithUnwritable), or the write's error,
// saying how to get the rest.
func (w *treeWriter) leaveOut(rel string, why error) error {
	if w.unwritable != nil {
		w.unwritable(rel, why)
		return nil
	}
	return fmt.Errorf("%s: %w (get the rest with --exclude /%s)", rel, why, rel)
}

// errInvalidName is Windows' ERROR_INVALID_NAME: a name with a character
// it does not take, or a name it reserves (CON, NUL, COM1...).
const errInvalidName = syscall.Errno(123)

// nameRefused is why the file system refused to make an entry called name
// in a folder that is there (err), when the name is the reason: too
// long, or one it does not take (nil otherwise). FUSE's exFAT says ENOENT
// for a name with a character exFAT does not take, Linux's own EINVAL,
// macOS's EILSEQ for one that is not UTF-8.
func nameRefused(name string, err error) error {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return nil
	}
	switch {
	case errno == syscall.ENAMETOOLONG:
		return fmt.Errorf("%w: it is too long (%d bytes)", ErrNameRefused, len(name))
	case errno == syscall.EINVAL, errno == syscall.ENOENT, errno == syscall.EILSEQ,
		runtime.GOOS == "windows" && errno == errInvalidName:
		switch {
		case strings.ContainsAny(name, `"*:<>?\|`):
			return fmt.Errorf(`%w (FAT, exFAT and Windows take none with " * : < > ? \ |)`, ErrNameRefused)
		case errno == syscall.ENOENT:
			return ErrNameRefused
		}
		return fmt.Errorf("%w (%w)", ErrNameRefused, errno)
	}
	return nil
}

// OutputNameErr is the error err of making outPath, or the temporary
// file or folder named for it (as WriteTo does), in its folder: where the
// file system refused outPath's name, it says so (ErrNameRefused), naming
// outPath, not the temporary name; else err.
func OutputNameErr(outPath string, err error) error {
	parent, base := filepath.Split(outPath)
	if parent == "" {
		parent = "."
	}
	if st, serr := os.Stat(parent); serr != nil || !st.IsDir() {
		return err // no folder to write in: ENOENT says so
	}
	if why := nameRefused(base, err); why != nil {
		return fmt.Errorf("%s: %w", outPath, why)
	}
	return err
}
