package fetch

import (
	"sync"

	"github.com/kith-p2p/kith/blockstore"
)

// Block bodies are reused when the store copies what it keeps
// (blockstore.PutCopier): a lane reads each large block into a buffer
// from a pool, and the store writer puts the buffer back once the block is
// written. Without that, every 1 MiB block was a fresh allocation that Go
// zeroed and later collected: 1 GiB of garbage per GiB fetched, and in a
// profile of a 1 GiB fetch 7% of the fetching daemon's CPU in zeroing
// alone, plus page faults on the new memory and the collections.
//
// Only blocks of more than minPooledBody bytes are pooled, in two size
// classes: the 256 KiB and 1 MiB chunks of IPFS files. Everything else is
// allocated as before. The buffers come from blockstore.AlignedBuffer: a
// block read into one starts on a 4 KiB boundary, and the store's direct
// write takes it from there without copying it first.
const minPooledBody = 128 << 10

var bodyClasses = [...]int{256 << 10, 1 << 20}

var bodyPools [len(bodyClasses)]sync.Pool

// bodyClass returns the index of the smallest class that holds n bytes,
// -1 if n is not pooled.
func bodyClass(n int) int {
	if n <= minPooledBody {
		return -1
	}
	for i, c := range bodyClasses {
		if n <= c {
			return i
		}
	}
	return -1
}

// getBody returns a buffer of n bytes: from a pool when n is pooled. Its
// bytes are not zeroed: the caller fills all n of them.
func getBody(n int) []byte {
	c := bodyClass(n)
	if c < 0 {
		return make([]byte, n)
	}
	if b, ok := bodyPools[c].Get().(*[]byte); ok {
		return (*b)[:n]
	}
	return blockstore.AlignedBuffer(bodyClasses[c])[:n]
}

// putBody gives b, from getBody, back to its pool. The caller must hold no
// other reference to b or to any part of it.
func putBody(b []byte) {
	for i, c := range bodyClasses {
		if cap(b) == c {
			b = b[:0]
			bodyPools[i].Put(&b)
			return
		}
	}
}
