package node

import (
	"context"
	"io"
	"math"
	"testing"
	"time"

	"github.com/ipfs/boxo/files"

	"github.com/kith-p2p/kith/web/api"
)

func TestRateMeter(t *testing.T) {
	type step struct {
		after time.Duration // since the previous step
		bytes int64
		want  float64 // bytes per second
	}
	const MiB = 1 << 20
	tests := []struct {
		name  string
		steps []step
	}{
		{"too early to tell", []step{{100 * time.Millisecond, 5 * MiB, 0}, {300 * time.Millisecond, 6 * MiB, 0}}},
		{"steady from the start", []step{{500 * time.Millisecond, 5 * MiB, 10 * MiB}, {500 * time.Millisecond, 10 * MiB, 10 * MiB}}},
		{"only the last window counts", []step{
			{time.Second, 100 * MiB, 100 * MiB},
			{time.Second, 200 * MiB, 100 * MiB},
			{time.Second, 300 * MiB, 100 * MiB},
			{time.Second, 301 * MiB, 67 * MiB}, // 201 MiB over the 3 s since 100 MiB
			{time.Second, 302 * MiB, 34 * MiB},
			{time.Second, 303 * MiB, 1 * MiB},
		}},
		{"nothing moving", []step{{time.Second, 0, 0}, {time.Second, 0, 0}}},
		{"a count that goes back starts again", []step{
			{time.Second, 8 * MiB, 8 * MiB},
			{time.Second, 1 * MiB, 0},
			{time.Second, 3 * MiB, 2 * MiB},
		}},
		{"bursts closer than a sample apart still count", []step{
			{10 * time.Millisecond, 1 * MiB, 0},
			{10 * time.Millisecond, 2 * MiB, 0},
			{980 * time.Millisecond, 4 * MiB, 4 * MiB},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := time.Unix(1_700_000_000, 0)
			m := newRateMeter(func() time.Time { return clock })
			for i, s := range tt.steps {
				clock = clock.Add(s.after)
				got := m.observe(s.bytes)
				if math.Abs(got-s.want) > 0.01*s.want+1 {
					t.Errorf("step %d (%d bytes): rate %.0f B/s, want %.0f", i, s.bytes, got, s.want)
				}
			}
			if len(m.samples) > int(meterWindow/rateSampleEvery)+2 {
				t.Errorf("the meter keeps %d samples", len(m.samples))
			}
		})
	}
}

// pacedReader hands out its bytes at about rate bytes per second: a slow
// upload. The sleeps pace the data; nothing waits on them for a result.
type pacedReader struct {
	left, chunk int
	every       time.Duration
}

func (r *pacedReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	time.Sleep(r.every)
	n := min(len(p), r.chunk, r.left)
	for i := range p[:n] {
		p[i] = byte(r.left - i)
	}
	r.left -= n
	return n, nil
}

// TestAddEventsCarryRate: an add's progress events, through the API, carry
// the rate it goes at once it has run long enough to tell.
func TestAddEventsCarryRate(t *testing.T) {
	_, c := startNode(t)
	// 3 MiB at 64 KiB per 25 ms: about 2.5 MiB/s for 1.2 s.
	const size = 3 << 20
	src := &pacedReader{left: size, chunk: 64 << 10, every: 25 * time.Millisecond}
	var rates []float64
	_, err := c.Add(context.Background(), "slow.bin", files.NewReaderFile(src), size, api.AddOptions{}, func(ev api.Event) {
		if ev.Type == "progress" && ev.Rate > 0 {
			rates = append(rates, ev.Rate)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rates) == 0 {
		t.Fatal("no progress event of the add carried a rate")
	}
	// The pace is an upper bound (a slow machine reads slower); a rate
	// far above it would be a burst taken for the pace.
	for _, r := range rates {
		if r > 5<<20 {
			t.Errorf("an event says %.1f MiB/s for an add paced at 2.5 MiB/s", r/(1<<20))
		}
	}
}
