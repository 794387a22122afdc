package node

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/kith-p2p/kith/web/api"
)

// TestDownloadLimit: fetch.download_limit paces what this node receives:
// a get (whose result names the cap), and a read through cat (the
// on-demand store's fetches). The
// limiter's bucket starts full (one 2 MiB block), so the rest is paced.
func TestDownloadLimit(t *testing.T) {
	const limit = 4 << 20
	a := newLocalNode(t)
	b := newLocalNodeWith(t, func(c *Config) { c.Fetch.DownloadLimit = limit })
	connect(t, b, a.Host())
	least := time.Duration(float64(6<<20-2<<20) / limit * float64(time.Second))
	for _, how := range []string{"get", "cat"} {
		data := randomData(6 << 20)
		root := addData(t, a, data)
		start := time.Now()
		var got []byte
		if how == "get" {
			var res api.GetResult
			got, res = getBytes(t, b, root)
			if res.Fetched.DownloadLimit != limit {
				t.Errorf("the get says it ran under a cap of %d B/s, want %d", res.Fetched.DownloadLimit, limit)
			}
		} else {
			r, err := b.Cat(context.Background(), root, 0, -1)
			if err != nil {
				t.Fatal(err)
			}
			got, err = io.ReadAll(r)
			r.Close()
			if err != nil {
				t.Fatal(err)
			}
		}
		d := time.Since(start)
		t.Logf("%s of 6 MiB at %d B/s: %v", how, limit, d)
		if !bytes.Equal(got, data) {
			t.Fatalf("%s: the bytes differ", how)
		}
		if d < least*9/10 {
			t.Errorf("%s of 6 MiB at %d B/s took %v, want at least %v", how, limit, d, least)
		}
	}
}
