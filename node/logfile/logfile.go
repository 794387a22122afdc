// Package logfile keeps the daemon's log in a file a user can read after
// the fact: capped in size, with one rotated predecessor (PATH.1), as
// Syncthing and Kubo's users expect from `tail`. Writer appends to it;
// Tail and Follow read it back (`kith log`, `kith log -f`) without the
// daemon's help, so they work when the daemon failed to start.
package logfile

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// DefaultMaxSize is where the log is rotated: 10 MiB, so the log and its
// predecessor take at most 20 MiB.
const DefaultMaxSize = 10 << 20

// Rotated is the name of path's predecessor.
func Rotated(path string) string { return path + ".1" }

// Writer appends to a log file and rotates it when a write would take it
// past its cap: the file becomes PATH.1 (replacing the older one) and a
// new file is begun. It is safe for concurrent use; each Write goes whole
// to one file, so a line written in one call is never split.
type Writer struct {
	path string
	max  int64

	mu     sync.Mutex
	f      *os.File // nil after a failed reopen: the next write tries again
	size   int64
	closed bool
}

// Open opens path for appending (creating it and its folder, readable by
// the user only), capped at max bytes (DefaultMaxSize if max <= 0).
func Open(path string, max int64) (*Writer, error) {
	if max <= 0 {
		max = DefaultMaxSize
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create the log folder: %w", err)
	}
	w := &Writer{path: path, max: max}
	if err := w.open(); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *Writer) open() error {
	f, err := os.OpenFile(w.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open log %s: %w", w.path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("open log %s: %w", w.path, err)
	}
	w.f, w.size = f, fi.Size()
	return nil
}

// Path is the file written to.
func (w *Writer) Path() string { return w.path }

// Write appends p, rotating first if p would take the file past its cap.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, os.ErrClosed
	}
	if w.f == nil {
		if err := w.open(); err != nil {
			return 0, err
		}
	}
	if w.size > 0 && w.size+int64(len(p)) > w.max {
		if err := w.rotate(); err != nil {
			return 0, err
		}
	}
	n, err := w.f.Write(p)
	w.size += int64(n)
	return n, err
}

// rotate moves the file to PATH.1 and begins a new one. If the rename
// fails (on Windows, while another program has the file open), writing
// goes on in the same file and the next write tries again.
func (w *Writer) rotate() error {
	_ = w.f.Close()
	w.f = nil
	_ = os.Rename(w.path, Rotated(w.path))
	return w.open()
}

// Close closes the file.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}
