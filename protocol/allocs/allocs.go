// Package allocs measures heap allocation, for the fuzz tests that bound
// what a decoder allocates for its input: a decoder that trusts a length
// field before reading allocates far more than it was sent.
package allocs

import "runtime/metrics"

const allocBytes = "/gc/heap/allocs:bytes"

// During returns the bytes allocated on the heap, by every goroutine, while
// fn ran. Small allocations are counted a span at a time, so the figure is
// exact to within some kilobytes; large ones are counted as they are made,
// which is what a bound on a decoder needs.
func During(fn func()) uint64 {
	s := []metrics.Sample{{Name: allocBytes}}
	metrics.Read(s)
	before := s[0].Value.Uint64()
	fn()
	metrics.Read(s)
	return s[0].Value.Uint64() - before
}
