package node

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/web/api"
)

// TestGetCacheBounded: what finished gets fetched stays in the repo up to
// fetch.cache_max; past it, the oldest downloads' blocks go (and only
// theirs: an unpinned add, a pin, a download cut short stay), the files
// written out stay whole, and a get of content already here adds nothing.
// With fetch.cache_max 0 a get keeps nothing.
func TestGetCacheBounded(t *testing.T) {
	a, b, roots, data, here := cacheSetup(t, 3)
	ctx := context.Background()
	// Unpinned blocks that no finished get fetched: an add without a pin,
	// and a download cut short (its root only, as a fetch stopped early
	// leaves it).
	loose, err := b.Add(ctx, "loose.bin", files.NewBytesFile(randomData(1<<20)), api.AddOptions{NoPin: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cut := addData(t, a, randomData(2<<20))
	cutRoot, err := a.store.Get(ctx, cut)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.store.Put(ctx, cutRoot); err != nil {
		t.Fatal(err)
	}
	// A pin of b's own, fetched by a pin add: not the cache's.
	pinned := addData(t, a, randomData(2<<20))
	if _, err := b.PinAdd(ctx, pinned, api.PinOptions{}, nil); err != nil {
		t.Fatal(err)
	}

	got0, _ := getBytes(t, b, roots[0])
	waitFor(t, 10*time.Second, "the first get listed", func() bool { return len(cachedGets(t, b)) == 1 })
	if !here(roots[0]) {
		t.Fatal("a get under the limit left nothing in the repo")
	}
	got1, _ := getBytes(t, b, roots[1]) // 6 MiB: over the limit, the oldest goes
	waitFor(t, 10*time.Second, "the oldest get's blocks removed, and it unlisted", func() bool {
		l := cachedGets(t, b)
		return !here(roots[0]) && len(l) == 1 && l[0].Cid == roots[1].String()
	})
	if l := cachedGets(t, b); !here(roots[1]) || l[0].Fetched < 3<<20 {
		t.Fatalf("after the second get: its root here %v, listed %+v", here(roots[1]), l)
	}
	for _, c := range []cid.Cid{cid.MustParse(loose.Cid), cut, pinned} {
		if !here(c) {
			t.Fatalf("%s went with the oldest get's blocks", c)
		}
	}
	if !bytes.Equal(got0, data[0]) || !bytes.Equal(got1, data[1]) {
		t.Fatal("a file written out differs")
	}
	// Content already here fetches nothing and is not listed.
	getBytes(t, b, pinned)
	getBytes(t, b, roots[1])
	if l := cachedGets(t, b); len(l) != 1 || l[0].Cid != roots[1].String() {
		t.Fatalf("listed after gets of what was here: %+v", l)
	}

	// repo stat says what the cache holds; a whole gc empties it.
	st, err := b.RepoStat(ctx)
	if err != nil || st.CacheDownloads != 1 || st.Cache < 3<<20 || st.Cache > 4<<20 || st.CacheMax != 5<<20 {
		t.Fatalf("repo stat: %+v, %v; want one download of 3 MiB cached, of at most 5 MiB", st, err)
	}
	if _, err := b.GC(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if st, err := b.RepoStat(ctx); err != nil || st.CacheDownloads != 0 || st.Cache != 0 || len(cachedGets(t, b)) != 0 {
		t.Fatalf("repo stat after a gc: %+v, %v; listed %+v", st, err, cachedGets(t, b))
	}

	// fetch.cache_max 0: a finished get keeps nothing.
	c := newLocalNodeWith(t, func(c *Config) { c.Fetch.CacheMax = 0 })
	connect(t, c, a.Host())
	got2, _ := getBytes(t, c, roots[2])
	waitFor(t, 10*time.Second, "the get's blocks removed at once", func() bool {
		ok, err := c.store.Has(ctx, roots[2])
		return err == nil && !ok
	})
	if !bytes.Equal(got2, data[2]) {
		t.Fatal("the file written out differs")
	}
}

// cacheSetup starts a node a holding n files of 3 MiB (roots, data) and
// a node b connected to it whose fetch.cache_max is 5 MiB; here reports
// whether b's repo holds a block.
func cacheSetup(t *testing.T, n int) (a, b *Node, roots []cid.Cid, data [][]byte, here func(cid.Cid) bool) {
	t.Helper()
	a = newLocalNode(t)
	b = newLocalNodeWith(t, func(c *Config) { c.Fetch.CacheMax = 5 << 20 })
	connect(t, b, a.Host())
	for range n {
		d := randomData(3 << 20)
		data, roots = append(data, d), append(roots, addData(t, a, d))
	}
	here = func(c cid.Cid) bool {
		ok, err := b.store.Has(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	return a, b, roots, data, here
}

// cachedGets reads the list of finished gets n keeps.
func cachedGets(t *testing.T, n *Node) []cachedGet {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(n.repo.dir, getCacheFile))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var l []cachedGet
	if err := json.Unmarshal(b, &l); err != nil {
		t.Fatal(err)
	}
	return l
}

// TestMirrorCacheBounded: what a followed folder fetched of a version is
// the downloads' cache once it is written: with fetch.cache_max 0 none of
// it stays in the repo, the folder holds the files, and a newer version is
// written in all the same (fetching what changed).
func TestMirrorCacheBounded(t *testing.T) {
	ctx := context.Background()
	a := groupNode(t, t.TempDir(), 1<<30)
	b := groupNodeTimed(t, t.TempDir(), 1, testTimings, func(c *Config) { c.Fetch.CacheMax = 0 })
	formGroup(t, []*Node{a, b}, "family")
	src, out := filepath.Join(t.TempDir(), "Docs"), filepath.Join(t.TempDir(), "Docs")
	first := randomData(2 << 20)
	writeBytes(t, filepath.Join(src, "a.bin"), first)
	v1 := shareInFamily(t, a, src)
	waitFor(t, 20*time.Second, "the second device to see the share", func() bool {
		sts, err := b.GroupStatus(ctx, v1)
		return err == nil && len(sts) == 1
	})
	if _, err := b.GroupMirror(ctx, "family", "Docs", out, "", nil); err != nil {
		t.Fatal(err)
	}
	gone := func(v cid.Cid) bool {
		ok, err := b.store.Has(ctx, v)
		return err == nil && !ok
	}
	written := func(name string, body []byte) bool {
		got, err := os.ReadFile(filepath.Join(out, name))
		return err == nil && bytes.Equal(got, body)
	}
	waitFor(t, 30*time.Second, "v1 written, and its blocks gone from the repo", func() bool {
		return written("a.bin", first) && gone(v1)
	})
	second := randomData(1 << 20)
	writeBytes(t, filepath.Join(src, "b.bin"), second)
	v2 := shareInFamily(t, a, src)
	waitFor(t, 30*time.Second, "v2 written, and its blocks gone from the repo", func() bool {
		return written("a.bin", first) && written("b.bin", second) && gone(v2)
	})
}

// TestCacheLimitLoweredAtStart: a fetch.cache_max lowered while the daemon
// was stopped applies when it starts, not at the next download.
func TestCacheLimitLoweredAtStart(t *testing.T) {
	ctx := context.Background()
	a := newLocalNode(t)
	dir := t.TempDir()
	b := newNodeAt(t, dir, nil)
	connect(t, b, a.Host())
	root := addData(t, a, randomData(2<<20))
	getBytes(t, b, root)
	waitFor(t, 10*time.Second, "the get listed", func() bool { return len(cachedGets(t, b)) == 1 })
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b = newNodeAt(t, dir, func(c *Config) { c.Fetch.CacheMax = 1 << 20 })
	waitFor(t, 10*time.Second, "the download's blocks removed at start", func() bool {
		ok, err := b.store.Has(ctx, root)
		return err == nil && !ok && len(cachedGets(t, b)) == 0
	})
}

// TestReadsCacheBounded: what `kith cat` and the gateway fetched to read
// content a peer holds is the downloads' cache too: listed once the read
// ends, with the bytes it fetched (reads of one root add up), and
// collected past fetch.cache_max; a read still running keeps what it
// fetched.
func TestReadsCacheBounded(t *testing.T) {
	ctx := context.Background()
	_, b, roots, data, here := cacheSetup(t, 2)
	listed := func() map[string]int64 {
		m := map[string]int64{}
		for _, e := range cachedGets(t, b) {
			m[e.Cid] = e.Fetched
		}
		return m
	}

	// A cat of the first MiB, then one of the rest: one entry, adding up.
	r, err := b.Cat(ctx, roots[0], 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	first, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(first, data[0][:1<<20]) {
		t.Fatalf("cat of the first MiB: %d bytes, %v", len(first), err)
	}
	if l := listed(); len(l) != 0 {
		t.Fatalf("listed while the read runs: %v", l)
	}
	r.Close()
	waitFor(t, 10*time.Second, "the cat listed", func() bool { return listed()[roots[0].String()] >= 1<<20 })
	r, err = b.Cat(ctx, roots[0], 1<<20, -1)
	if err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(rest, data[0][1<<20:]) {
		t.Fatalf("cat of the rest: %d bytes, %v", len(rest), err)
	}
	waitFor(t, 10*time.Second, "both cats counted", func() bool { return listed()[roots[0].String()] >= 3<<20 })

	// The gateway reads the second file while a cat of the first one is
	// open: over the limit, the first is collected once its read ends.
	open, err := b.Cat(ctx, roots[0], 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	resp := streamGet(t, b, "/ipfs/"+roots[1].String(), "")
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || !bytes.Equal(body, data[1]) {
		t.Fatalf("gateway read: %d bytes, %v", len(body), err)
	}
	waitFor(t, 10*time.Second, "the gateway read listed", func() bool { return listed()[roots[1].String()] >= 3<<20 })
	if all, err := io.ReadAll(open); err != nil || !bytes.Equal(all, data[0]) {
		t.Fatalf("the open cat read %d bytes, %v", len(all), err)
	}
	open.Close() // fetched nothing, but its end trims what it kept
	waitFor(t, 10*time.Second, "the oldest read's blocks removed", func() bool {
		l := listed()
		_, old := l[roots[0].String()]
		return !old && !here(roots[0]) && here(roots[1])
	})
}
