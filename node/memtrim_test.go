package node

import (
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

func TestMemTrimmer(t *testing.T) {
	tests := []struct {
		name   string
		moved  []int64
		served []int64 // blocks sent to peers
		close  bool
		armed  bool // a trim is due
	}{
		{"nothing moved", nil, nil, false, false},
		{"small transfers", []int64{1 << 20, trimAfterBytes - 1}, nil, false, false},
		{"a large transfer", []int64{trimAfterBytes}, nil, false, true},
		{"large transfers in a row", []int64{1 << 30, 1 << 30, 1 << 30}, nil, false, true},
		{"closed first", []int64{1 << 30}, nil, true, false},
		{"a few blocks served", nil, []int64{1 << 20, 1 << 20}, false, false},
		{"many blocks served", nil, slices.Repeat([]int64{1 << 20}, trimAfterBytes>>20), false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var trims atomic.Int32
			done := make(chan struct{}, 4)
			m := &memTrimmer{quiet: 20 * time.Millisecond, trim: func() {
				trims.Add(1)
				done <- struct{}{}
			}}
			defer m.close()
			for _, n := range tt.moved {
				m.moved(n)
			}
			for _, n := range tt.served {
				m.served(n)
			}
			if tt.close {
				m.close()
				m.moved(1 << 30) // a transfer ending after Close arms nothing
			}
			if !tt.armed {
				m.mu.Lock()
				stopped := m.timer == nil || !m.timer.Stop()
				m.mu.Unlock()
				if !stopped || trims.Load() != 0 {
					t.Fatalf("a trim was due or ran (%d)", trims.Load())
				}
				return
			}
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("no trim after a large transfer")
			}
			// One timer, pushed back by each transfer: it ran once, and
			// runs again only after another large transfer.
			if n := trims.Load(); n != 1 {
				t.Fatalf("%d trims, want 1", n)
			}
		})
	}
}
