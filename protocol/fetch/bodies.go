package fetch

import "sync"

// Block bodies are reused when the store copies what it keeps
// (blockstore.PutCopier): a lane reads each large block frame into a buffer
// from a pool, and the store writer puts the buffer back once the block is
// written. Without that, every 1 MiB block was a fresh allocation that Go
// zeroed and later collected: 1 GiB of garbage per GiB fetched, and in a
// profile of a 1 GiB fetch 7% of the fetching daemon's CPU in zeroing
// alone, plus page faults on the new memory and the collections.
//
// Only frames of more than minPooledBody bytes are pooled, in two size
// classes with room for the frame's CID header: the 256 KiB and 1 MiB
// chunks of IPFS files. Everything else is allocated as before.
const (
	minPooledBody = 128 << 10
	bodyHeadroom  = 256 // CID and framing in front of the block's bytes
)

var bodyClasses = [...]int{256<<10 + bodyHeadroom, 1<<20 + bodyHeadroom}

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
	return make([]byte, n, bodyClasses[c])
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
