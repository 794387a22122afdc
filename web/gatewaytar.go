package web

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/kith-p2p/kith/blockstore/dag"
)

// tarRenamer is the ResponseWriter of a folder download (a tar archive
// from boxo, whose top-level folder is named by its CID, as the gateway
// specification has it): it renames that folder to the name the download
// is saved as, so that unpacking holiday.tar gives ./holiday, not
// ./bafy.... The archive is read as boxo writes it and written again
// with the new names (a pipe and a goroutine: boxo streams). Anything
// but a tar answer (an error) passes through as it is.
type tarRenamer struct {
	w        http.ResponseWriter
	from, to string

	pw   *io.PipeWriter // set once the tar answer started
	done chan rewritten // the rewrite's end
	skip bool           // not a tar answer: pass through
}

func newTarRenamer(w http.ResponseWriter, from, to string) *tarRenamer {
	return &tarRenamer{w: w, from: from, to: to}
}

func (t *tarRenamer) Header() http.Header { return t.w.Header() }

func (t *tarRenamer) WriteHeader(code int) {
	if t.pw != nil || t.skip {
		t.w.WriteHeader(code) // a second call: net/http says so
		return
	}
	t.start(code)
	t.w.WriteHeader(code)
	if !t.skip {
		// Sent now, from this goroutine: the rewrite's writes do not
		// read the header while boxo may still set it (X-Stream-Error).
		if f, ok := t.w.(http.Flusher); ok {
			f.Flush()
		}
	}
}

// start decides, at the answer's first header, whether it is the tar.
func (t *tarRenamer) start(code int) {
	if code != http.StatusOK || t.w.Header().Get("Content-Type") != "application/x-tar" {
		t.skip = true
		return
	}
	t.w.Header().Del("Content-Length") // the names change the length
	pr, pw := io.Pipe()
	t.pw, t.done = pw, make(chan rewritten, 1)
	go func() {
		res := t.rewrite(pr)
		// boxo's writes fail once this cannot go on; after a whole
		// archive, what follows is dropped.
		if res.err != nil {
			pr.CloseWithError(res.err)
		} else {
			_, _ = io.Copy(io.Discard, pr)
		}
		t.done <- res
	}()
}

func (t *tarRenamer) Write(b []byte) (int, error) {
	if t.pw == nil && !t.skip {
		t.WriteHeader(http.StatusOK)
	}
	if t.skip {
		return t.w.Write(b)
	}
	return t.pw.Write(b)
}

// Flush passes through an answer that is not the tar; the rewrite
// flushes the tar itself, after each entry (only it writes to w then).
func (t *tarRenamer) Flush() {
	if t.skip {
		if f, ok := t.w.(http.Flusher); ok {
			f.Flush()
		}
	}
}

// finish waits for the rewrite to write what boxo wrote, once boxo
// returned, and ends the archive: with its trailer when boxo's was whole,
// else as boxo ends a tar that failed, cut short (a client sees it
// broken) with the reason at its end.
func (t *tarRenamer) finish() {
	if t.pw == nil {
		return
	}
	t.pw.Close()
	res := <-t.done
	err := res.err
	if msg := t.w.Header().Get("X-Stream-Error"); msg != "" {
		// boxo's reason, the one that says what failed (its trailer
		// follows it: the archive may even read as whole).
		err = errors.New(msg)
	}
	if err == nil {
		err = res.tw.Close()
	}
	if err != nil {
		_, _ = fmt.Fprint(t.w, err.Error())
	}
}

// rewritten is the end of a rewrite: the archive's writer, to be closed
// when the archive came whole (err nil).
type rewritten struct {
	tw  *tar.Writer
	err error
}

// rewrite copies the archive from r to w, with the top-level entry from
// renamed to, up to the archive's trailer (not written: finish does).
func (t *tarRenamer) rewrite(r io.Reader) rewritten {
	tail := &tailReader{r: r}
	tr, tw := tar.NewReader(tail), tar.NewWriter(t.w)
	flusher, _ := t.w.(http.Flusher)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			// The reader also takes an archive that stops at an entry's
			// end, or in its padding, for one that ended: only a
			// trailer (two zero blocks) says it is whole.
			if !tail.trailer() {
				err = errors.New("the archive ended early")
			} else {
				err = nil
			}
			return rewritten{tw, err}
		}
		if err != nil {
			return rewritten{tw, fmt.Errorf("read the archive: %w", err)}
		}
		hdr.Name = t.rename(hdr.Name)
		delete(hdr.PAXRecords, "path") // the name above is the one
		hdr.Format = tar.FormatUnknown // the writer chooses (long names: PAX)
		if err := tw.WriteHeader(hdr); err != nil {
			return rewritten{tw, fmt.Errorf("write the archive: %w", err)}
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return rewritten{tw, fmt.Errorf("write the archive: %w", err)}
		}
		if err := tw.Flush(); err != nil {
			return rewritten{tw, fmt.Errorf("write the archive: %w", err)}
		}
		if flusher != nil {
			flusher.Flush()
		}
	}
}

// tailReader keeps the last 1,024 bytes read through it: a tar's
// trailer, when it came whole.
type tailReader struct {
	r    io.Reader
	tail []byte
}

func (t *tailReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	k := min(n, 1024)
	t.tail = append(t.tail[max(0, len(t.tail)+k-1024):], p[n-k:n]...)
	return n, err
}

// trailer reports whether what was read ends with two zero blocks.
func (t *tailReader) trailer() bool {
	if len(t.tail) < 1024 {
		return false
	}
	for _, b := range t.tail {
		if b != 0 {
			return false
		}
	}
	return true
}

// rename gives name, a path in the archive, the new top-level name.
func (t *tarRenamer) rename(name string) string {
	if name == t.from || name == t.from+"/" {
		return t.to + strings.TrimPrefix(name, t.from)
	}
	if rest, ok := strings.CutPrefix(name, t.from+"/"); ok {
		return t.to + "/" + rest
	}
	return name
}

// tarFolderName is the top-level folder's name in a download saved as
// file (NAME.tar): NAME, unless it cannot name a folder (dag.CheckName),
// then "" (the CID stays).
func tarFolderName(file string) string {
	name := strings.TrimSuffix(file, ".tar")
	if dag.CheckName(name) != nil {
		return ""
	}
	return name
}
