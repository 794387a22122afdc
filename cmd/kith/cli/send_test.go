package cli

import (
	"slices"
	"testing"
	"time"

	"github.com/kith-p2p/kith/web/api"
)

// TestSendNews: what send says of a peer's download as it goes: when it
// starts, at most every 10 s while it goes on, when it stops asking, and
// when it starts again.
func TestSendNews(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	const id = "12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo"
	up := func(bytes int64, last time.Time) api.Upload {
		return api.Upload{Peer: id, Agent: "kith/1.0", Bytes: bytes, Rate: 2 << 20, Last: last}
	}
	finished := func(bytes int64, last time.Time) api.Upload {
		u := up(bytes, last)
		u.Finished, u.Rate = true, 0
		return u
	}
	peers := map[string]*sendPeer{}
	steps := []struct {
		at   time.Duration
		u    api.Upload
		want []string
	}{
		{0, up(1<<20, t0), []string{"12D3KooW…CVe2Xo (kith/1.0) is downloading it"}},
		{time.Second, up(3<<20, t0.Add(time.Second)), nil}, // said less than 10 s ago
		{11 * time.Second, up(20<<20, t0.Add(11*time.Second)), []string{"12D3KooW…CVe2Xo (kith/1.0): 20 MiB of 40 MiB, 2.0 MiB/s"}},
		{12 * time.Second, up(22<<20, t0.Add(12*time.Second)), nil},
		{18 * time.Second, up(22<<20, t0.Add(12*time.Second)), []string{"12D3KooW…CVe2Xo (kith/1.0) stopped asking, after 22 MiB of 40 MiB: done, or paused (its get resumes)"}},
		{19 * time.Second, up(22<<20, t0.Add(12*time.Second)), nil}, // said once
		{30 * time.Second, up(23<<20, t0.Add(30*time.Second)), []string{"12D3KooW…CVe2Xo (kith/1.0) is downloading it again (23 MiB of 40 MiB so far)"}},
		{33 * time.Second, finished(40<<20, t0.Add(32*time.Second)), []string{"12D3KooW…CVe2Xo (kith/1.0) has it all: its get finished (40 MiB sent from here)"}},
		{34 * time.Second, finished(40<<20, t0.Add(32*time.Second)), nil},
		{60 * time.Second, finished(40<<20, t0.Add(32*time.Second)), nil}, // quiet, but said finished
		{70 * time.Second, up(41<<20, t0.Add(70*time.Second)), []string{"12D3KooW…CVe2Xo (kith/1.0) is downloading it again (41 MiB of 40 MiB so far)"}},
		{75 * time.Second, finished(41<<20, t0.Add(75*time.Second)), []string{"12D3KooW…CVe2Xo (kith/1.0) has it all: its get finished (41 MiB sent from here)"}},
	}
	for i, s := range steps {
		got := sendNews(peers, s.u, 40<<20, t0.Add(s.at))
		if !slices.Equal(got, s.want) {
			t.Errorf("step %d (at %s): said %q, want %q", i, s.at, got, s.want)
		}
	}
	// A peer first seen finished (its blocks came under no root here: a
	// get resumed) is said to have it all, once.
	const other = "12D3KooWRBhwfeP2Y4TCx1SM6s9rUoHhR5nnGpMF4E5AdMzHb3Yr"
	u := api.Upload{Peer: other, Finished: true, Last: t0}
	if got := sendNews(peers, u, 40<<20, t0); !slices.Equal(got, []string{"12D3KooW…zHb3Yr has it all: its get finished"}) {
		t.Errorf("a peer first seen finished: said %q", got)
	}
}
