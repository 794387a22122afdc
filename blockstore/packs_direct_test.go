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
		got, err := p.read(r, newBytes)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read %+v: %d bytes, %v", r, len(got), err)
		}
	}
}

// TestDirectWritesKeepFewSpares: a batch written directly through a
// staging buffer leaves it for the next batch, at most maxSpares of them,
// and dropSpares lets them go (the idle daemon does not keep 8 MiB buffers
// resident).
func TestDirectWritesKeepFewSpares(t *testing.T) {
	p, _, err := openPacks(t.TempDir(), packMaxSize)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close(false)
	// Not aligned (Go places large allocations on page boundaries), so
	// copied into a staging buffer, which is kept.
	unaligned := func(v byte) []byte { return bytes.Repeat([]byte{v}, 1<<20+1)[1:] }
	if _, err := p.writeMany([][]byte{unaligned(1), unaligned(2)}, true); err != nil {
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

// TestDirectWritesTakeAlignedBlocksAsTheyAre: a block from AlignedBuffer
// goes to the disk without being copied, but for its last partial 4 KiB; a
// block anywhere else is copied whole, and so few bytes need no 8 MiB
// staging buffer. Every block reads back exactly and the gaps between
// blocks on disk are zeros, whichever way it went.
func TestDirectWritesTakeAlignedBlocksAsTheyAre(t *testing.T) {
	p, _, err := openPacks(t.TempDir(), packMaxSize)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close(false)
	fill := func(b []byte, seed byte) []byte {
		for i := range b {
			b[i] = seed + byte(i%251)
		}
		return b
	}
	unaligned := make([]byte, 100_003+1)[1:]
	datas := [][]byte{
		fill(AlignedBuffer(1<<20), 1),   // aligned, a whole number of 4 KiB
		fill(AlignedBuffer(1<<20+7), 2), // aligned, with a 7-byte tail
		fill(unaligned, 3),              // copied whole
		fill(AlignedBuffer(packThreshold), 4),
		fill(AlignedBuffer(3<<20+5), 5),       // aligned, with a tail, after a copied block
		fill(AlignedBuffer(directChunk+9), 6), // alone in a write larger than directChunk
	}
	if isAligned(unaligned) {
		t.Fatal("the test's unaligned block is aligned")
	}
	refs, err := p.writeMany(datas, true)
	if err != nil {
		t.Fatal(err)
	}
	if !p.direct {
		t.Skip("the file system of the test's temporary folder refuses O_DIRECT")
	}
	if got, want := p.staged.Load(), int64(7+100_003+5+9); got != want {
		t.Errorf("%d bytes copied to staging buffers, want %d (the tails and the unaligned block)", got, want)
	}
	if len(p.spares) != 0 {
		t.Errorf("%d staging buffers of 8 MiB kept for a few tails and one small block", len(p.spares))
	}
	for i, r := range refs {
		got, err := p.read(r, newBytes)
		if err != nil || !bytes.Equal(got, datas[i]) {
			t.Fatalf("block %d (%d bytes): read %d bytes, %v", i, len(datas[i]), len(got), err)
		}
		f, err := p.file(r.pack)
		if err != nil {
			t.Fatal(err)
		}
		gap := make([]byte, alignUp(r.end())-r.end())
		if _, err := f.ReadAt(gap, r.end()); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(gap, make([]byte, len(gap))) {
			t.Errorf("block %d: the %d bytes after it on disk are not zeros", i, len(gap))
		}
	}
}
