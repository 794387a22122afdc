//go:build linux

package blockstore_test

import (
	"context"
	"os"
	"testing"
	"unsafe"

	blocks "github.com/ipfs/go-block-format"
	"golang.org/x/sys/unix"

	"github.com/kith-p2p/kith/blockstore"
)

// TestPackWritesBypassPageCache: where the file system takes O_DIRECT,
// PutMany with a BypassCache context writes a block's bytes to its pack
// without them entering the page cache (mincore finds none of the pack's
// pages cached before anything reads them), and blocks of every size read
// back exactly (each is padded to the alignment on disk), also after a
// reopen and further appends. Without the hint, or on a store opened with
// WithBufferedPacks, the pages are cached (which also shows the check sees
// them).
func TestPackWritesBypassPageCache(t *testing.T) {
	sizes := []int{blockstore.PackThreshold, blockstore.PackThreshold + 1, 100_003, mib - 1, mib, mib + 7, 2 * mib, 3*mib + 5}
	bypass := blockstore.BypassCache(context.Background())
	for _, tc := range []struct {
		name   string
		ctx    context.Context
		opts   []blockstore.BadgerOption
		direct bool
	}{
		{"bypass", bypass, nil, true},
		{"no hint", context.Background(), nil, false},
		{"bypass, buffered packs", bypass, []blockstore.BadgerOption{blockstore.WithBufferedPacks()}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := tc.ctx
			dir := t.TempDir()
			s, err := blockstore.OpenBadger(dir, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			var first, second []blocks.Block
			for i, n := range sizes {
				first = append(first, randomBlocks(t, uint64(200+i), 1, n)[0])
				second = append(second, randomBlocks(t, uint64(300+i), 1, n)[0])
			}
			if err := s.PutMany(ctx, first); err != nil {
				t.Fatal(err)
			}
			if tc.direct && !blockstore.PacksDirect(s) {
				if takesDirect(t, dir) {
					t.Fatal("pack writes go through the page cache on a file system that takes O_DIRECT")
				}
				s.Close()
				t.Skip("the file system of the test's temporary folder refuses O_DIRECT")
			}
			cached := cachedPages(t, packFiles(t, dir))
			if tc.direct && cached != 0 {
				t.Fatalf("%d pages of the packs are in the page cache after direct writes", cached)
			}
			if !tc.direct && cached == 0 {
				t.Fatal("no page of the packs is cached after buffered writes: mincore sees nothing")
			}
			for _, b := range first {
				mustGet(t, s, b)
			}
			reopenAndAppend(ctx, t, s, dir, first, second)
		})
	}
}

// takesDirect reports whether dir is on a file system known to take
// O_DIRECT writes (ext4, XFS, Btrfs).
func takesDirect(t *testing.T, dir string) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	switch st.Type {
	case unix.EXT4_SUPER_MAGIC, unix.XFS_SUPER_MAGIC, unix.BTRFS_SUPER_MAGIC:
		return true
	}
	return false
}

// cachedPages counts the pages of the files that are in the page cache.
func cachedPages(t *testing.T, files []string) int {
	t.Helper()
	n := 0
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := f.Stat()
		if err != nil || fi.Size() == 0 {
			f.Close()
			continue
		}
		m, err := unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		vec := make([]byte, (len(m)+os.Getpagesize()-1)/os.Getpagesize())
		_, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0])))
		unix.Munmap(m)
		if errno != 0 {
			t.Fatalf("mincore %s: %v", name, errno)
		}
		for _, v := range vec {
			n += int(v & 1)
		}
	}
	return n
}
