package fetch

import (
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"

	"github.com/kith-p2p/kith/blockstore"
)

// trickle makes h a provider that answers the first CID of a request with
// the header of a Block frame announcing a block of size bytes, and then
// one byte every 50 ms: never silent long enough for the stall watchdog.
// asked is closed once it has a request.
func trickle(tb testing.TB, h host.Host, size int) (asked <-chan struct{}) {
	ch := make(chan struct{})
	var once bool
	h.SetStreamHandler(ID, func(s network.Stream) {
		defer s.Reset()
		m, err := NewReader(s, 0).Next()
		if err != nil || m.Type != MsgRequest {
			return
		}
		if !once {
			once = true
			close(ch)
		}
		cf, _ := appendCID(nil, m.CIDs[0])
		hdr := binary.AppendUvarint(nil, uint64(1+len(cf)+size))
		hdr = append(append(hdr, byte(MsgBlock)), cf...)
		if _, err := s.Write(hdr); err != nil {
			return
		}
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for range t.C {
			if _, err := s.Write([]byte{0}); err != nil {
				return // reset by the fetcher
			}
		}
	})
	tb.Cleanup(func() { h.RemoveStreamHandler(ID) })
	return ch
}

// TestFetchHedgesTrickler: a provider that announces a 2 MiB block and
// trickles it holds the root; an honest seeder comes once it has. The
// fetch completes within seconds (the trickle alone would take 12 hours,
// and the frame deadline over a minute), the root fetched from the honest
// seeder.
func TestFetchHedgesTrickler(t *testing.T) {
	_, hs := newMocknet(t, 3)
	src := blockstore.NewMemStore()
	data := detBytes(31, 16<<20)
	root := addFile(t, src, data)
	asked := trickle(t, hs[1], MaxBlockSize)
	serve(t, hs[2], src)

	dst := blockstore.NewMemStore()
	start := time.Now()
	res, err := NewFetcher(hs[0], dst).Fetch(testCtx(t, time.Minute), root, sequenced(addrInfo(hs[1]), asked, addrInfo(hs[2])), nil)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	checkFile(t, dst, root, data)
	if took > 15*time.Second {
		t.Errorf("fetch took %v with a trickling provider and an honest one (want well under the frame deadline %v)", took, frameDeadline(MaxBlockSize))
	}
	if st := res.PerPeer[hs[1].ID()]; st.Blocks != 0 {
		t.Errorf("the trickler delivered %d blocks", st.Blocks)
	}
	t.Logf("completed in %v: %+v", took, res)
}

// TestFrameDeadline: the deadline a frame gets for its size; and alone, a
// trickler is dropped at it (a small announced frame keeps this short),
// with a reason that says so, and the fetch fails instead of hanging.
func TestFrameDeadline(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want time.Duration
	}{
		{0, frameGrace},
		{1 << 20, frameGrace + 32*time.Second},
		{MaxBlockSize, frameGrace + 64*time.Second},
	} {
		if got := frameDeadline(tc.n); got != tc.want {
			t.Errorf("frameDeadline(%d) = %v, want %v", tc.n, got, tc.want)
		}
	}

	_, hs := newMocknet(t, 2)
	src := blockstore.NewMemStore()
	root := addFile(t, src, detBytes(32, 1<<20))
	trickle(t, hs[1], 1<<10)
	res, err := NewFetcher(hs[0], blockstore.NewMemStore()).Fetch(testCtx(t, time.Minute), root, infos(hs[1]), nil)
	if err == nil {
		t.Fatal("fetch from a trickler alone succeeded")
	}
	if reason := res.Dropped[hs[1].ID()]; !strings.Contains(reason, "took over") {
		t.Errorf("trickler dropped for %q (err %v)", reason, err)
	}
}
