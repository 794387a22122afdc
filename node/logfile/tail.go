package logfile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// noLogError says there is no log yet. It is os.ErrNotExist to errors.Is,
// without that error's words in its message.
type noLogError struct{ path string }

func (e noLogError) Error() string {
	return fmt.Sprintf("there is no log at %s yet: `kith daemon` writes it while it runs", e.path)
}

func (e noLogError) Unwrap() error { return os.ErrNotExist }

// headSize is how much of a file's beginning identifies it: log lines
// start with a timestamp, so a new file after a rotation begins otherwise.
const headSize = 128

// Tail returns the last n lines of the log at path, reaching into its
// rotated predecessor when the file itself has fewer.
func Tail(path string, n int) ([]string, error) {
	lines, _, err := tail(path, n)
	return lines, err
}

// tail is Tail, also returning where in path it stopped reading.
func tail(path string, n int) ([]string, position, error) {
	lines, size, head, err := lastLinesOf(path, n)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, position{}, err
	}
	missing := err != nil
	if missing || len(lines) < n {
		older, _, _, err := lastLinesOf(Rotated(path), n-len(lines))
		switch {
		case err == nil:
			lines = append(older, lines...)
		case !errors.Is(err, os.ErrNotExist):
			return nil, position{}, err
		case missing:
			return nil, position{}, noLogError{path}
		}
	}
	return lines, position{off: size, head: head}, nil
}

// position is how far a reader has read a log file, and which file it was.
type position struct {
	off  int64
	head []byte
}

// lastLinesOf returns the last n lines of the file at path, with its size
// and its head.
func lastLinesOf(path string, n int) ([]string, int64, []byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, nil, err
	}
	size := fi.Size()
	head, err := readHead(f, size)
	if err != nil {
		return nil, 0, nil, err
	}
	lines, err := lastLines(f, size, n)
	return lines, size, head, err
}

func readHead(r io.ReaderAt, size int64) ([]byte, error) {
	h := make([]byte, min(size, headSize))
	if _, err := r.ReadAt(h, 0); err != nil && err != io.EOF {
		return nil, err
	}
	return h, nil
}

// lastLines returns the last n lines among the first size bytes of r,
// reading backwards from there only as far as it needs to.
func lastLines(r io.ReaderAt, size int64, n int) ([]string, error) {
	if n <= 0 || size <= 0 {
		return nil, nil
	}
	var buf []byte
	off := size
	for off > 0 {
		chunk := min(off, 64<<10)
		off -= chunk
		b := make([]byte, chunk)
		if _, err := r.ReadAt(b, off); err != nil && err != io.EOF {
			return nil, err
		}
		buf = append(b, buf...)
		if bytes.Count(buf, []byte{'\n'}) > n { // n whole lines and the end of the one before
			break
		}
	}
	lines := strings.Split(strings.TrimSuffix(string(buf), "\n"), "\n")
	return lines[max(0, len(lines)-n):], nil
}

// Follow prints the last n lines of the log at path (with emit), then
// every line added to it, as `tail -F` does: across rotations (the rest of
// the old file is read from PATH.1 first) and while the file does not
// exist yet. It checks for new lines every poll interval, holding the file
// open only to read it (so the writer can rotate it on any system), and
// returns when ctx ends or emit fails.
func Follow(ctx context.Context, path string, n int, poll time.Duration, emit func(line string) error) error {
	lines, pos, err := tail(path, n)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	for _, l := range lines {
		if err := emit(l); err != nil {
			return err
		}
	}
	fl := &follower{path: path, pos: pos, emit: emit}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := fl.poll(); err != nil {
			return err
		}
	}
}

// follower reads what was added to a log since it last looked.
type follower struct {
	path    string
	pos     position
	partial []byte // a line begun but not yet ended
	emit    func(string) error
}

func (fl *follower) poll() error {
	f, err := os.Open(fl.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil // not written yet, or between a rotation's rename and the new file
	}
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	size := fi.Size()
	head, err := readHead(f, size)
	if err != nil {
		return err
	}
	if size < fl.pos.off || !samePrefix(head, fl.pos.head) {
		// Rotated (or truncated): finish the old file, now PATH.1, then
		// read the new one from its start.
		if err := fl.drainRotated(); err != nil {
			return err
		}
		if err := fl.flush(); err != nil {
			return err
		}
		fl.pos = position{}
	}
	if size > fl.pos.off {
		if err := fl.read(f, fl.pos.off, size); err != nil {
			return err
		}
	}
	fl.pos = position{off: size, head: head}
	return nil
}

// drainRotated reads the rest of the file it was reading, if PATH.1 is it.
func (fl *follower) drainRotated() error {
	f, err := os.Open(Rotated(fl.path))
	if err != nil {
		return nil // gone already (rotated twice between two looks): what it held is lost to us
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil
	}
	head, err := readHead(f, fi.Size())
	if err != nil || len(fl.pos.head) == 0 || !samePrefix(head, fl.pos.head) || fi.Size() <= fl.pos.off {
		return nil
	}
	return fl.read(f, fl.pos.off, fi.Size())
}

func (fl *follower) read(r io.ReaderAt, from, to int64) error {
	_, err := io.Copy(lineWriter{fl}, io.NewSectionReader(r, from, to-from))
	return err
}

// lineWriter passes whole lines to the follower's emit.
type lineWriter struct{ fl *follower }

func (w lineWriter) Write(b []byte) (int, error) {
	fl := w.fl
	fl.partial = append(fl.partial, b...)
	for {
		i := bytes.IndexByte(fl.partial, '\n')
		if i < 0 {
			return len(b), nil
		}
		line := string(fl.partial[:i])
		fl.partial = fl.partial[i+1:]
		if err := fl.emit(line); err != nil {
			return 0, err
		}
	}
}

// flush emits a line the old file left unended.
func (fl *follower) flush() error {
	if len(fl.partial) == 0 {
		return nil
	}
	line := string(fl.partial)
	fl.partial = nil
	return fl.emit(line)
}

// samePrefix reports whether the shorter of a and b begins the longer:
// the heads of one file read at two sizes.
func samePrefix(a, b []byte) bool {
	n := min(len(a), len(b))
	return bytes.Equal(a[:n], b[:n])
}
