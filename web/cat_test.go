package web

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/web/api"
	"github.com/kith-p2p/kith/web/client"
)

// catBackend serves a file whose blocks run out: after `good` bytes the
// reader fails, as a file with a missing block does.
type catBackend struct {
	fakeBackend
	good int
}

type failingReader struct {
	left int
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, errors.New("block bafkreiexample not found")
	}
	n := min(len(p), r.left)
	clear(p[:n])
	r.left -= n
	return n, nil
}

func (r *failingReader) Close() error { return nil }

func (b *catBackend) Cat(context.Context, cid.Cid, int64, int64) (io.ReadCloser, error) {
	return &failingReader{left: b.good}, nil
}

// TestCatFailsVisibly: a file with a missing block is never an empty or
// short success: missing at once, the answer is an error; missing midway,
// the stream is cut and the client's read fails.
func TestCatFailsVisibly(t *testing.T) {
	c := "bafkreicljtzuqjre64mv5kc5pf3plz2wsh2fjhkrof3v6rgdvkdfva24qe"
	for _, tt := range []struct {
		name string
		good int
	}{{"first block missing", 0}, {"block missing after 1 MiB", 1 << 20}} {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, &catBackend{good: tt.good})
			cl := client.New(s.Addr(), "secret-token")
			rc, err := cl.Cat(context.Background(), c, 0, -1)
			if err == nil {
				n, rerr := io.Copy(io.Discard, rc)
				rc.Close()
				if rerr == nil {
					t.Fatalf("read %d bytes and no error", n)
				}
				return
			}
			var ae *api.Error
			if !errors.As(err, &ae) || !strings.Contains(ae.Message, "not found") {
				t.Fatalf("cat error %v, want the missing block named", err)
			}
		})
	}
}
