package node

import (
	"bytes"
	"context"
	"errors"
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

// TestConfigAppliedLive: the caps and the cache bound that `kith config
// set` writes are taken by the running node when asked (ApplyConfig),
// with no restart; other settings are left for the next start, and an
// unknown key is refused.
func TestConfigAppliedLive(t *testing.T) {
	ctx := context.Background()
	a, b := newLocalNode(t), newLocalNode(t)
	connect(t, b, a.Host())
	set := func(n *Node, key, value string) {
		t.Helper()
		if _, err := SetConfig(n.repo.dir, key, value); err != nil {
			t.Fatal(err)
		}
		res, err := n.ApplyConfig(ctx, key)
		if err != nil || !res.Applied {
			t.Fatalf("apply %s: %+v, %v", key, res, err)
		}
	}
	const limit = 4 << 20
	least := time.Duration(float64(6<<20-2<<20) / limit * float64(time.Second))
	paced := func(what string) {
		t.Helper()
		start := time.Now()
		_, res := getBytes(t, b, addData(t, a, randomData(6<<20)))
		if d := time.Since(start); d < least*9/10 {
			t.Errorf("%s: a get of 6 MiB at %d B/s took %v, want at least %v", what, limit, d, least)
		}
		if res.Fetched.Blocks == 0 {
			t.Fatalf("%s: the get fetched nothing", what)
		}
	}

	set(b, "fetch.download_limit", "4MiB")
	paced("download_limit")
	set(b, "fetch.download_limit", "0")
	if _, res := getBytes(t, b, addData(t, a, randomData(1<<20))); res.Fetched.DownloadLimit != 0 {
		t.Fatalf("after the cap was lifted, a get says it ran under %d B/s", res.Fetched.DownloadLimit)
	}
	set(a, "fetch.upload_limit", "4MiB")
	paced("upload_limit on the seeder")
	set(a, "fetch.upload_limit", "0")

	// The cache bound: lowered to 0, what the gets left goes at once.
	if st, err := b.RepoStat(ctx); err != nil || st.Cache == 0 {
		t.Fatalf("before: repo stat %+v, %v; want the gets cached", st, err)
	}
	set(b, "fetch.cache_max", "0")
	waitFor(t, 10*time.Second, "the cache emptied", func() bool {
		st, err := b.RepoStat(ctx)
		return err == nil && st.Cache == 0 && st.CacheMax == 0
	})

	if res, err := b.ApplyConfig(ctx, "groups.grace"); err != nil || res.Applied {
		t.Fatalf("apply groups.grace: %+v, %v; want left for the next start", res, err)
	}
	if _, err := b.ApplyConfig(ctx, "fetch.upload_rate"); !errors.Is(err, api.ErrInvalid) {
		t.Fatalf("apply of an unknown key: %v", err)
	}
}
