package group

import (
	"fmt"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	mh "github.com/multiformats/go-multihash"
)

// testID returns a valid peer ID (a hashed one) for member i.
func testID(i int) peer.ID {
	h, err := mh.Sum(fmt.Appendf(nil, "member %d", i), mh.SHA2_256, -1)
	if err != nil {
		panic(err)
	}
	return peer.ID(h)
}

func testCID(i int) cid.Cid {
	h, err := mh.Sum(fmt.Appendf(nil, "root %d", i), mh.SHA2_256, -1)
	if err != nil {
		panic(err)
	}
	return cid.NewCidV1(cid.DagProtobuf, h)
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeTime is a settable wall clock.
type fakeTime struct{ t time.Time }

func (f *fakeTime) now() time.Time           { return f.t }
func (f *fakeTime) add(d time.Duration)      { f.t = f.t.Add(d) }
func newFakeTime() *fakeTime                 { return &fakeTime{t: t0} }
func clockAt(id peer.ID, f *fakeTime) *Clock { return NewClock(id, f.now) }

func mustApply(t *testing.T, s *State, u Update) bool {
	t.Helper()
	ok, err := s.ApplyUpdate(u)
	if err != nil {
		t.Fatalf("apply %s: %v", u, err)
	}
	return ok
}

func memberUpdate(id peer.ID, budget int64, v HLC) Update {
	return Update{Member: &Member{ID: id, Name: "laptop", Budget: budget, Joined: v.Wall, Version: v}}
}

func intentUpdate(root cid.Cid, who peer.ID, copies int, v HLC) Update {
	return Update{Intent: &Intent{Root: root, Name: "photos", Size: 100, Copies: copies, Who: who, Created: v, Version: v}}
}
