package dag

import (
	"context"
	"fmt"
	"io"
	"testing"

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
