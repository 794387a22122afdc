package cli

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/kith-p2p/kith/web/api"
)

const mib = 1 << 20

// TestProgressResumes: a get that resumes says how much is already here
// and draws its bar over the rest, with a labelled ETA from the daemon's
// rate; a fresh one just draws the bar.
func TestProgressResumes(t *testing.T) {
	tests := []struct {
		name     string
		events   []api.Event
		want     []string // in stderr
		avoid    []string
		at, over int64 // the bar's position and length
	}{
		{
			name: "resuming",
			events: []api.Event{
				{Type: "progress", Phase: "fetch"},                                                    // seeking peers
				{Type: "progress", Phase: "fetch", Bytes: 90 * mib, Total: 100 * mib, Have: 90 * mib}, // found here
				{Type: "progress", Phase: "fetch", Bytes: 95 * mib, Total: 100 * mib, Have: 90 * mib, Peers: 1, Rate: 1 * mib},
			},
			want: []string{"resuming: 90 MiB of 100 MiB already here", "from 1 peer (the rest), ETA 0:05"},
			at:   5 * mib, over: 10 * mib,
		},
		{
			name: "fresh",
			events: []api.Event{
				{Type: "progress", Phase: "fetch", Bytes: 10 * mib, Total: 100 * mib, Peers: 2, Rate: 2 * mib},
			},
			want:  []string{"from 2 peers, ETA 0:45"},
			avoid: []string{"resuming", "the rest"},
			at:    10 * mib, over: 100 * mib,
		},
		{
			name: "peers went away, and one came back",
			events: []api.Event{
				{Type: "progress", Phase: "fetch", Bytes: 40 * mib, Total: 100 * mib, Peers: 1, Rate: 2 * mib},
				{Type: "progress", Phase: "waiting", Bytes: 40 * mib, Total: 100 * mib, Until: time.Date(2026, 12, 6, 15, 52, 0, 0, time.Local)},
				{Type: "progress", Phase: "waiting", Bytes: 40 * mib, Total: 100 * mib, Until: time.Date(2026, 12, 6, 15, 52, 0, 0, time.Local)},
				{Type: "progress", Phase: "fetch", Bytes: 40 * mib, Total: 100 * mib}, // a new try, seeking peers
				{Type: "progress", Phase: "fetch", Bytes: 50 * mib, Total: 100 * mib, Peers: 1, Rate: 5 * mib},
			},
			want: []string{
				"no peer that has the rest is reachable now (40 MiB of 100 MiB here): waiting until 15:52 for one to come back (Ctrl-C stops; the same command later fetches only the rest)\n",
			},
			avoid: []string{"resuming", "the rest),"},
			at:    50 * mib, over: 100 * mib,
		},
		{
			name: "a get run again compares the folder there",
			events: []api.Event{
				{Type: "progress", Phase: "compare", Bytes: 30 * mib, Total: 120 * mib, Rate: 300 * mib},
			},
			want:  []string{"comparing with what is there"},
			avoid: []string{"getting"},
			at:    30 * mib, over: 120 * mib,
		},
		{
			name: "an hour or more",
			events: []api.Event{
				{Type: "progress", Phase: "fetch", Bytes: 1, Total: 8000 * mib, Peers: 1, Rate: 1 * mib},
			},
			want: []string{"ETA 2:13:19"},
			at:   1, over: 8000 * mib,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leakOpt := goleak.IgnoreCurrent()
			var errOut lockedBuffer // a spinner renders from its own goroutine
			e := &env{stdout: &bytes.Buffer{}, stderr: &errOut, tty: true}
			p := e.newProgress("getting", true)
			for _, ev := range tt.events {
				p.event(ev)
			}
			if st := p.bar.State(); st.CurrentNum != tt.at || st.Max != tt.over {
				t.Errorf("bar at %d of %d, want %d of %d", st.CurrentNum, st.Max, tt.at, tt.over)
			}
			out := errOut.String()
			p.done()
			// A bar dropped on resume must not keep its render goroutine.
			goleak.VerifyNone(t, leakOpt)
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("stderr lacks %q:\n%q", w, out)
				}
			}
			for _, a := range tt.avoid {
				if strings.Contains(out, a) {
					t.Errorf("stderr has %q:\n%q", a, out)
				}
			}
			if n := strings.Count(out, "is reachable now"); n > 1 {
				t.Errorf("the wait is said %d times, want once:\n%q", n, out)
			}
		})
	}
}

// lockedBuffer is a bytes.Buffer safe for the progress bar's render
// goroutine and the test reading it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
