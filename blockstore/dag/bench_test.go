package dag

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ipfs/boxo/files"

	"github.com/kith-p2p/kith/blockstore"
)

// BenchmarkImportLarge imports 256 MiB of pseudo-random data (a stand-in for
// the 1 GiB target, scaled to keep memory modest) into a MemStore.
func BenchmarkImportLarge(b *testing.B) {
	const size = 256 << 20
	pattern := detBytes(1, 1<<20+4093)
	b.SetBytes(size)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		bs := blockstore.NewMemStore()
		r := io.LimitReader(&cycleReader{buf: pattern}, size)
		if _, err := NewImporter(bs).Add(context.Background(), files.NewReaderFile(r), nil); err != nil {
			b.Fatal(err)
		}
	}
}

// cycleReader repeats buf forever at memmove speed, so the benchmark
// measures the importer rather than a random generator. buf's length is not
// a multiple of the chunk size, so consecutive chunks all differ (no dedup).
type cycleReader struct {
	buf []byte
	pos int
}

func (c *cycleReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k := copy(p[n:], c.buf[c.pos:])
		n += k
		c.pos = (c.pos + k) % len(c.buf)
	}
	return n, nil
}

// BenchmarkImportSmallFiles imports 10,000 files of 4 KiB spread over 100
// folders, the many-small-files target (well under 1.5 s).
func BenchmarkImportSmallFiles(b *testing.B) {
	const folders, perFolder, fileSize = 100, 100, 4096
	data := detBytes(99, folders*perFolder*fileSize)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		top := make(map[string]files.Node, folders)
		for f := range folders {
			m := make(map[string]files.Node, perFolder)
			for k := range perFolder {
				off := (f*perFolder + k) * fileSize
				m[fmt.Sprintf("file-%03d.bin", k)] = files.NewBytesFile(data[off : off+fileSize])
			}
			top[fmt.Sprintf("dir-%03d", f)] = files.NewMapDirectory(m)
		}
		root := files.NewMapDirectory(top)
		bs := blockstore.NewMemStore()
		b.StartTimer()
		if _, err := NewImporter(bs).Add(context.Background(), root, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReaddChangedFolder adds again, from disk, a folder of 256 MiB
// (64 files of 4 MiB) after one small file in it changed: "full" reads
// every file, as an add without an earlier version must; "reuse" links
// the unchanged files from the earlier version (dag.Reuse), as a watched
// folder's re-share does. Both give the same CID.
func BenchmarkReaddChangedFolder(b *testing.B) {
	dir := b.TempDir()
	for i := range 64 {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("part-%02d.bin", i)), detBytes(uint64(i), 4<<20), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	note := filepath.Join(dir, "note.txt")
	add := func(bs blockstore.Blockstore, opts ...ImportOption) Result {
		n, err := OpenPath(dir, Exclusion{})
		if err != nil {
			b.Fatal(err)
		}
		defer n.Close()
		res, err := NewImporter(bs, opts...).Add(context.Background(), n, nil)
		if err != nil {
			b.Fatal(err)
		}
		return res
	}
	for _, mode := range []string{"full", "reuse"} {
		b.Run(mode, func(b *testing.B) {
			bs := blockstore.NewMemStore()
			if err := os.WriteFile(note, []byte("v"), 0o644); err != nil {
				b.Fatal(err)
			}
			since := time.Now().Add(time.Hour) // the parts predate the earlier add
			prev := add(bs)
			b.SetBytes(int64(prev.Size))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				// A new size each time: read again whatever the times say.
				if err := os.WriteFile(note, bytes.Repeat([]byte("v"), i+2), 0o644); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				var opts []ImportOption
				if mode == "reuse" {
					opts = append(opts, WithReuse(Reuse{Prev: prev.Root, Since: since}))
				}
				prev = add(bs, opts...)
			}
		})
	}
}

// BenchmarkFingerprint looks at a folder of 10,000 small files in 100
// folders, as each look at a watched folder does (no file is read): what
// a look costs, with the SystemFiles patterns each entry is checked
// against and without.
func BenchmarkFingerprint(b *testing.B) {
	dir := b.TempDir()
	for f := range 100 {
		sub := filepath.Join(dir, fmt.Sprintf("dir-%03d", f))
		if err := os.Mkdir(sub, 0o755); err != nil {
			b.Fatal(err)
		}
		for k := range 100 {
			if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("file-%03d.bin", k)), []byte("x"), 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	// Against a look with no SystemFiles to check: what checking them adds.
	for _, tc := range []struct {
		name string
		sys  []pattern
	}{{"system-files", systemFiles}, {"none", nil}} {
		b.Run(tc.name, func(b *testing.B) {
			saved := systemFiles
			systemFiles = tc.sys
			defer func() { systemFiles = saved }()
			for b.Loop() {
				if _, _, err := Fingerprint(dir, Exclusion{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
