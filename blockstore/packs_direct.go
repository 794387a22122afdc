package blockstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"unsafe"
)

// Pack writes of data nobody is about to read bypass the page cache where
// the platform allows (Linux: O_DIRECT): the disk reads each block straight
// from the daemon's memory. The caller says which writes those are
// (BypassCache): an add (the user's file is the copy they read), a CAR
// import, a pin or a group's replica. `kith get` fetches and then reads
// every block back to write the file out, so its fetch goes through the page
// cache: reading 1 GiB back from disk made the write-out ~3x slower here
// (508-631 against 1,760 MB/s).
//
// Why: a write(2) into the page cache copies every byte and then has the
// kernel account, write back and later evict every page. On the
// development machine (ext4 on a virtual disk, Linux 6.18) writing 1 GiB
// and fsyncing it cost 1.9 CPU-seconds of system time through the page
// cache and 0.12 s with O_DIRECT, which also ran faster (dd, 1 MiB writes:
// 398 MB/s against 1.9 GB/s); a profile of a 1 GiB fetch had pwrite at 36%
// of the fetching daemon's CPU. Blocks are written once and read rarely
// soon after, so the page cache buys little for them.
//
// O_DIRECT wants the buffer, the file offset and the length aligned to the
// device's block: offsets are (packAlign); a block whose bytes are aligned
// in memory (the fetcher reads large blocks into AlignedBuffer) goes out
// from there, and the rest is copied into an aligned buffer, each block
// padded with zeros to the next packAlign boundary, inside the gap that
// alignment leaves between blocks anyway. Durability is
// unchanged: a direct write may still sit in the disk's cache, and the
// file's size and extents are metadata, so Sync still fsyncs the packs.
// Where the file system refuses (EINVAL at open or at a write: tmpfs on
// older kernels, some network and FUSE file systems), the store goes back to
// ordinary writes for good.

type bypassKey struct{}

// BypassCache returns a context whose PutMany calls write the bytes of large
// blocks past the page cache (where the platform allows): for data nobody
// is about to read back.
func BypassCache(ctx context.Context) context.Context {
	return context.WithValue(ctx, bypassKey{}, true)
}

func bypassCache(ctx context.Context) bool {
	v, _ := ctx.Value(bypassKey{}).(bool)
	return v
}

// directChunk bounds one direct write: the blocks of a batch go out in
// writes of up to this many bytes, from aligned buffers the store keeps for
// the next batch (up to maxSpares; dropSpares lets them go once the daemon is
// idle, so they are not resident then). A block larger than that gets a
// buffer of its own.
const (
	directChunk = 8 << 20
	maxSpares   = 2
)

// spare returns an aligned buffer of directChunk bytes.
func (p *packs) spare() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.spares); n > 0 {
		b := p.spares[n-1]
		p.spares = p.spares[:n-1]
		return b
	}
	return alignedBuf(directChunk)
}

// putSpare keeps b for the next batch, unless maxSpares are kept already.
func (p *packs) putSpare(b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.spares) < maxSpares {
		p.spares = append(p.spares, b)
	}
}

// dropSpares lets the kept buffers go.
func (p *packs) dropSpares() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.spares)
	p.spares = p.spares[:0]
}

// alignedBuf returns n bytes whose address is a multiple of packAlign.
func alignedBuf(n int) []byte {
	b := make([]byte, n+packAlign)
	skip := 0
	if r := int(uintptr(unsafe.Pointer(&b[0])) % packAlign); r != 0 {
		skip = packAlign - r
	}
	return b[skip : skip+n : skip+n]
}

// AlignedBuffer returns n bytes (not zeroed) laid out for the store's direct
// writes: a block whose bytes start at the start of such a buffer goes from
// the buffer to the disk without being copied (see writeRunDirect). The
// fetcher reads large blocks into these.
func AlignedBuffer(n int) []byte { return alignedBuf(n) }

// isAligned reports whether b starts at a multiple of packAlign.
func isAligned(b []byte) bool {
	return len(b) > 0 && uintptr(unsafe.Pointer(&b[0]))%packAlign == 0
}

// maxChunkBlocks bounds the blocks of one direct write, so that its pieces
// stay well under the kernel's limit on a vectored write (IOV_MAX, 1024).
const maxChunkBlocks = 256

// writeRunDirect writes datas, placed back to back in one pack at refs,
// through df (a handle from openDirect), in vectored writes of up to
// directChunk bytes, the gaps between blocks filled with zeros. A block
// whose bytes start on a packAlign boundary (AlignedBuffer) goes out from
// where it is, all but its last partial packAlign; the rest, and every
// other block, is copied into an aligned staging buffer first. It reports
// false with a nil error when the file system refused the first write
// (EINVAL): the caller then writes them the ordinary way, and the store does
// from now on.
func (p *packs) writeRunDirect(df *os.File, datas [][]byte, refs []packRef) (bool, error) {
	var spare []byte
	defer func() {
		if spare != nil {
			p.putSpare(spare)
		}
	}()
	var segs [][]byte
	for i := 0; i < len(datas); {
		// The chunk is datas[i:j]: at least one block, then as many as fit.
		start := refs[i].off
		j := i + 1
		for j < len(datas) && j-i < maxChunkBlocks && alignUp(refs[j].end())-start <= directChunk {
			j++
		}
		var st stager
		switch need := stageNeed(datas[i:j], refs[i:j]); {
		case need == 0:
		case need >= directChunk/4 && need <= directChunk:
			// Many blocks not aligned: the kept buffer.
			if spare == nil {
				spare = p.spare()
			}
			st.buf = spare[:0]
		default:
			// Aligned blocks' tails, a few small blocks: no 8 MiB
			// buffer allocated and kept for them.
			st.buf = alignedBuf(need)[:0]
		}
		segs = segs[:0]
		at := start
		for k := i; k < j; k++ {
			if gap := int(refs[k].off - at); gap > 0 {
				segs = st.stage(segs, nil, gap)
			}
			data := datas[k]
			if isAligned(data) {
				head := len(data) &^ (packAlign - 1)
				if head > 0 {
					segs = append(segs, data[:head])
					st.last = false
				}
				data = data[head:]
			}
			if len(data) > 0 {
				segs = st.stage(segs, data, int(alignUp(int64(len(data)))))
			}
			at = alignUp(refs[k].end())
		}
		p.staged.Add(int64(st.copied))
		if err := writevAt(df, segs, start); err != nil {
			if i == 0 && errors.Is(err, syscall.EINVAL) {
				p.mu.Lock()
				p.direct = false
				p.mu.Unlock()
				return false, nil
			}
			return false, fmt.Errorf("write pack %s: %w", df.Name(), err)
		}
		i = j
	}
	return true, nil
}

// stageNeed returns how many bytes of datas, placed at refs back to back,
// writeRunDirect copies into a staging buffer: gaps, the tails of aligned
// blocks, the other blocks whole, each padded to packAlign.
func stageNeed(datas [][]byte, refs []packRef) int {
	need := 0
	at := refs[0].off
	for k, data := range datas {
		need += int(refs[k].off - at)
		if isAligned(data) {
			data = data[len(data)&^(packAlign-1):]
		}
		need += int(alignUp(int64(len(data))))
		at = alignUp(refs[k].end())
	}
	return need
}

// stager hands out the aligned pieces of a direct write that are copied:
// consecutive pieces of its buffer, joined into one write segment when they
// follow each other.
type stager struct {
	buf    []byte // aligned; len is what is handed out, cap what there is
	last   bool   // the last segment appended is the end of buf
	copied int    // bytes copied in
}

// stage appends to segs n bytes of st's buffer holding src and then zeros.
func (st *stager) stage(segs [][]byte, src []byte, n int) [][]byte {
	from := len(st.buf)
	st.buf = st.buf[:from+n]
	piece := st.buf[from:]
	st.copied += copy(piece, src)
	clear(piece[len(src):])
	if st.last {
		last := segs[len(segs)-1]
		segs[len(segs)-1] = last[:len(last)+n]
		return segs
	}
	st.last = true
	return append(segs, piece)
}

// directLocked returns pack n's direct write handle, opening it if needed,
// or nil once the store has gone back to ordinary writes. p.mu held; the
// pack file exists.
func (p *packs) directLocked(n uint32) *os.File {
	if !p.direct {
		return nil
	}
	if f := p.dfiles[n]; f != nil {
		return f
	}
	f, err := openDirect(filepath.Join(p.dir, packName(n)))
	if err != nil {
		// Not for this file system: ordinary writes from now on. Another
		// failure (permissions, no file) shows at the ordinary write too.
		p.direct = false
		return nil
	}
	p.dfiles[n] = f
	return f
}

// closeDirectLocked closes pack n's direct handle, if open. p.mu held.
func (p *packs) closeDirectLocked(n uint32) error {
	f := p.dfiles[n]
	if f == nil {
		return nil
	}
	delete(p.dfiles, n)
	return f.Close()
}
