package blockstore

import (
	"bytes"
	"testing"
)

// TestDirectWriteRefusedFallsBack: a direct write the file system refuses
// (EINVAL, here provoked with an offset off the alignment) is reported as
// not done, without an error, and the store writes the ordinary way from
// then on; the block written next reads back.
func TestDirectWriteRefusedFallsBack(t *testing.T) {
	p, _, err := openPacks(t.TempDir(), packMaxSize)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close(false)
	data := bytes.Repeat([]byte{7}, packThreshold+3)
	refs, err := p.writeMany([][]byte{data}, true)
	if err != nil {
		t.Fatal(err)
	}
	ref := refs[0]
	p.mu.Lock()
	df := p.directLocked(ref.pack)
	p.mu.Unlock()
	if df == nil {
		t.Skip("the file system of the test's temporary folder refuses O_DIRECT")
	}
	done, err := p.writeRunDirect(df, [][]byte{data}, []packRef{{pack: ref.pack, off: 1, size: len(data)}})
	if done || err != nil {
		t.Fatalf("direct write at an unaligned offset: done %v, err %v; want false, nil", done, err)
	}
	if p.direct {
		t.Fatal("the store still writes directly after a refused write")
	}
	refs, err = p.writeMany([][]byte{data}, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []packRef{ref, refs[0]} {
		got, err := p.read(r)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read %+v: %d bytes, %v", r, len(got), err)
		}
	}
}

// TestDirectWritesKeepFewSpares: a batch written directly leaves its
// buffer for the next batch, at most maxSpares of them, and dropSpares lets
// them go (the idle daemon does not keep 8 MiB buffers resident).
func TestDirectWritesKeepFewSpares(t *testing.T) {
	p, _, err := openPacks(t.TempDir(), packMaxSize)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close(false)
	if _, err := p.writeMany([][]byte{bytes.Repeat([]byte{1}, 1<<20), bytes.Repeat([]byte{2}, 1<<20)}, true); err != nil {
		t.Fatal(err)
	}
	if !p.direct {
		t.Skip("the file system of the test's temporary folder refuses O_DIRECT")
	}
	if len(p.spares) != 1 {
		t.Fatalf("%d spare buffers after one batch, want 1", len(p.spares))
	}
	for range 3 {
		p.putSpare(p.spare())
		p.putSpare(alignedBuf(directChunk))
	}
	if len(p.spares) != maxSpares {
		t.Fatalf("%d spare buffers kept, want at most %d", len(p.spares), maxSpares)
	}
	p.dropSpares()
	if len(p.spares) != 0 {
		t.Fatalf("%d spare buffers after dropSpares", len(p.spares))
	}
}
