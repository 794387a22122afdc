package blockstore_test

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/kith-p2p/kith/blockstore"
)

// rssFileKiB is this process's resident memory backed by files (mapped
// files, its own binary), from /proc/self/status.
func rssFileKiB(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "RssFile:"); ok {
			v, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return v
		}
	}
	t.Fatal("no RssFile in /proc/self/status")
	return 0
}

// TestMappedPagesAreReleased: small blocks go to Badger's memory-mapped
// value log, whose touched pages count as the process's resident memory.
// The store releases them as it writes (every releaseMappedEvery bytes)
// and on ReleaseMapped, without losing a byte: every block reads back
// intact, after a reopen too.
func TestMappedPagesAreReleased(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := blockstore.OpenBadger(dir)
	if err != nil {
		t.Fatal(err)
	}
	before := rssFileKiB(t)
	// 160 MiB of 16 KiB blocks, in batches as an add writes them.
	const size, n = 16 << 10, 10240
	bs := randomBlocks(t, 7, n, size)
	peak := 0
	for i := 0; i < n; i += 512 {
		if err := s.PutMany(ctx, bs[i:min(i+512, n)]); err != nil {
			t.Fatal(err)
		}
		peak = max(peak, rssFileKiB(t)-before)
	}
	// Without the release, the whole 160 MiB written stays resident.
	if peak > 120<<10 {
		t.Errorf("mapped pages resident while writing reached %d MiB of 160 MiB written", peak>>10)
	}
	if err := s.ReleaseMemory(); err != nil {
		t.Fatal(err)
	}
	if grew := rssFileKiB(t) - before; grew > 32<<10 {
		t.Errorf("after ReleaseMapped, %d MiB of mapped pages still resident", grew>>10)
	}
	check := func() {
		t.Helper()
		for _, b := range bs {
			got, err := s.Get(ctx, b.Cid())
			if err != nil {
				t.Fatalf("get %s: %v", b.Cid(), err)
			}
			if !bytes.Equal(got.RawData(), b.RawData()) {
				t.Fatalf("block %s changed after its pages were released", b.Cid())
			}
		}
	}
	check()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = blockstore.OpenBadger(dir); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check()
}

// TestSyncReleasesMappedPages: the pages a batch of small blocks touched
// in the mapped value log, fewer than a release by count would drop, stay
// resident after the writes and are dropped by the Sync that ends them.
func TestSyncReleasesMappedPages(t *testing.T) {
	ctx := context.Background()
	s, err := blockstore.OpenBadger(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	before := rssFileKiB(t)
	// 24 MiB of 16 KiB blocks: under releaseMappedEvery.
	bs := randomBlocks(t, 9, 1536, 16<<10)
	for i := 0; i < len(bs); i += 512 {
		if err := s.PutMany(ctx, bs[i:i+512]); err != nil {
			t.Fatal(err)
		}
	}
	if grew := rssFileKiB(t) - before; grew < 16<<10 {
		t.Skipf("only %d MiB of the 24 MiB written became resident: nothing for Sync to release", grew>>10)
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	// Some of the growth is this test binary's own code, paged in as it ran.
	if grew := rssFileKiB(t) - before; grew > 8<<10 {
		t.Errorf("after Sync, %d MiB of mapped pages still resident", grew>>10)
	}
}
