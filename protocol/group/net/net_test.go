package groupnet

import (
	"context"
	"crypto/rand"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	mh "github.com/multiformats/go-multihash"

	"github.com/kith-p2p/kith/protocol/group"
)

func newID(t *testing.T) peer.ID {
	t.Helper()
	k, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func testRoot(t testing.TB, s string) cid.Cid {
	h, err := mh.Sum([]byte(s), mh.SHA2_256, -1)
	if err != nil {
		t.Fatal(err)
	}
	return cid.NewCidV1(cid.Raw, h)
}

// member returns a group for a new peer that has joined sec.
func member(t *testing.T, sec group.Secret) *Group {
	t.Helper()
	g := newGroup(newID(t), GroupOptions{Secret: sec, Config: group.TestConfig()})
	err := g.Apply(context.Background(), func(s *group.State, c *group.Clock) (group.Update, error) {
		return s.Join(c, "laptop", nil, 1<<30)
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func seal(t *testing.T, g *Group, m group.Message) []byte {
	t.Helper()
	b, err := group.EncodeMessage(m)
	if err != nil {
		t.Fatal(err)
	}
	return g.keys.Seal(g.self, b)
}

func TestCheckRejectsAndIgnores(t *testing.T) {
	sec, _ := group.NewSecret()
	other, _ := group.NewSecret()
	a, b := member(t, sec), member(t, sec)
	stranger := member(t, other)
	root := testRoot(t, "photos")
	var share group.Update
	_ = b.Apply(context.Background(), func(s *group.State, c *group.Clock) (group.Update, error) {
		u, err := s.Share(c, root, "photos", 10, 2)
		share = u
		return u, err
	})
	var bJoin group.Member
	b.Read(func(s *group.State, _ *group.Liveness) { bJoin, _ = s.Member(b.self) })
	now := time.Now()

	tests := []struct {
		name   string
		sender peer.ID
		data   []byte
		want   error
	}{
		{"junk", b.self, []byte("junk that is long enough to hold a nonce and a tag......"), group.ErrAuth},
		{"other group's key", stranger.self, seal(t, stranger, group.Message{Update: &share}), group.ErrAuth},
		{"sender is not the sealer", a.self, seal(t, b, group.Message{Update: &share}), group.ErrAuth},
		{"too large", b.self, make([]byte, group.MaxMessageSize+group.Overhead+1), group.ErrTooLarge},
		// a has not heard of b yet: b's intent is ignored (sync brings it), not rejected.
		{"intent from unknown member", b.self, seal(t, b, group.Message{Update: &share}), group.ErrNotMember},
		{"member record", b.self, seal(t, b, group.Message{Update: &group.Update{Member: &bJoin}}), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.check(tt.sender, tt.data, now)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("check: %v, want %v", err, tt.want)
			}
		})
	}
	// A payload that opens but does not decode is rejected as invalid.
	bad := b.keys.Seal(b.self, []byte(`{"u":{},"h":{}}`))
	if _, err := a.check(b.self, bad, now); !errors.Is(err, group.ErrInvalid) {
		t.Fatalf("malformed: %v", err)
	}
	// A clock far ahead is ignored.
	ahead := share
	in := *share.Intent
	in.Version.Wall += (group.MaxClockSkew + time.Hour).Milliseconds()
	ahead.Intent = &in
	a.deliver(group.Message{Update: &group.Update{Member: &bJoin}}, now)
	if _, err := a.check(b.self, seal(t, b, group.Message{Update: &ahead}), now); !errors.Is(err, group.ErrClockSkew) {
		t.Fatalf("skewed: %v", err)
	}
}

// pipeSync runs a sync between a (initiator) and b over net.Pipe.
func pipeSync(a, b *Group) (errA, errB error) {
	ca, cb := net.Pipe()
	defer ca.Close()
	defer cb.Close()
	deadline := time.Now().Add(5 * time.Second)
	_ = ca.SetDeadline(deadline)
	_ = cb.SetDeadline(deadline)
	done := make(chan error, 1)
	go func() {
		err := b.runSync(cb, a.self, false)
		if err != nil {
			cb.Close()
		}
		done <- err
	}()
	errA = a.runSync(ca, b.self, true)
	if errA != nil {
		ca.Close()
	}
	return errA, <-done
}

func TestSyncOverPipe(t *testing.T) {
	sec, _ := group.NewSecret()
	a, b := member(t, sec), member(t, sec)
	for i, g := range []*Group{a, b} {
		_ = g.Apply(context.Background(), func(s *group.State, c *group.Clock) (group.Update, error) {
			return s.Share(c, testRoot(t, string(rune('a'+i))), "x", 10, 2)
		})
	}
	// Neither has synced: the responder sends a snapshot, then they reconcile.
	if ea, eb := pipeSync(a, b); ea != nil || eb != nil {
		t.Fatalf("first sync: %v / %v", ea, eb)
	}
	var da, db [32]byte
	a.Read(func(s *group.State, _ *group.Liveness) { da = s.Digest() })
	b.Read(func(s *group.State, _ *group.Liveness) { db = s.Digest() })
	if da != db {
		t.Fatal("states differ after sync")
	}
	b.Read(func(s *group.State, _ *group.Liveness) {
		if len(s.Intents()) != 2 || len(s.Members()) != 2 || s.Synced().IsZero() {
			t.Fatalf("after sync: %d intents, %d members, synced %v", len(s.Intents()), len(s.Members()), s.Synced())
		}
	})
	// A later change travels by reconciliation alone.
	_ = a.Apply(context.Background(), func(s *group.State, c *group.Clock) (group.Update, error) {
		return s.Share(c, testRoot(t, "z"), "z", 10, 1)
	})
	if ea, eb := pipeSync(b, a); ea != nil || eb != nil {
		t.Fatalf("second sync: %v / %v", ea, eb)
	}
	b.Read(func(s *group.State, _ *group.Liveness) {
		if len(s.Intents()) != 3 {
			t.Fatalf("after second sync: %d intents", len(s.Intents()))
		}
	})
}

func TestSyncRefusesNonMember(t *testing.T) {
	sec, _ := group.NewSecret()
	a := member(t, sec)
	// Same secret but never joined: its hello is not a member record.
	lurker := newGroup(newID(t), GroupOptions{Secret: sec, Config: group.TestConfig()})
	lurker.state.Merge(a.state)
	// An outsider with another secret cannot even open our frames.
	other, _ := group.NewSecret()
	outsider := member(t, other)
	outsider.id = a.id

	before := a.state.Digest()
	if _, err := pipeSync(lurker, a); err == nil {
		t.Fatal("a non-member synced")
	}
	if _, eb := pipeSync(outsider, a); !errors.Is(eb, group.ErrAuth) {
		t.Fatalf("outsider: responder error %v, want ErrAuth", eb)
	}
	if a.state.Digest() != before || len(a.state.Members()) != 1 {
		t.Fatal("a refused sync changed the state")
	}
}

// TestMeshFeatures: a peer whose protocol GossipSub does not know yet is
// not taken for a floodsub peer (which would get every message, past the
// member filter); known protocols keep GossipSub's features.
func TestMeshFeatures(t *testing.T) {
	tests := []struct {
		feat  pubsub.GossipSubFeature
		proto protocol.ID
		want  bool
	}{
		{pubsub.GossipSubFeatureMesh, "", true},
		{pubsub.GossipSubFeaturePX, "", false},
		{pubsub.GossipSubFeatureMesh, pubsub.GossipSubID_v11, true},
		{pubsub.GossipSubFeaturePX, pubsub.GossipSubID_v11, true},
		{pubsub.GossipSubFeatureMesh, pubsub.FloodSubID, false},
	}
	for _, tt := range tests {
		if got := meshFeatures(tt.feat, tt.proto); got != tt.want {
			t.Errorf("meshFeatures(%v, %q) = %v, want %v", tt.feat, tt.proto, got, tt.want)
		}
	}
	for _, p := range meshProtocols() {
		if p == pubsub.FloodSubID {
			t.Error("floodsub is among the protocols spoken")
		}
	}
}

// TestDeliverTellsWhatIsHeard: a heartbeat that changes what a member is
// seen to hold is reported as heard (OnHeard: pages redraw), the same
// heartbeat again is not, and neither is a state update.
func TestDeliverTellsWhatIsHeard(t *testing.T) {
	sec, _ := group.NewSecret()
	a, b := member(t, sec), member(t, sec)
	root := testRoot(t, "photos")
	now := time.Now()
	wall := now.UnixMilli()
	hb := func(roots ...cid.Cid) group.Message {
		wall++
		return group.Message{Heartbeat: &group.Heartbeat{Member: b.self, Clock: group.HLC{Wall: wall, Node: b.self},
			Incarnation: 1, Parts: 1, Roots: roots, Held: len(roots), Digest: make([]byte, group.HeartbeatDigestLen)}}
	}
	var bJoin group.Member
	b.Read(func(s *group.State, _ *group.Liveness) { bJoin, _ = s.Member(b.self) })
	steps := []struct {
		name           string
		msg            group.Message
		changed, heard bool
	}{
		{"b joins", group.Message{Update: &group.Update{Member: &bJoin}}, true, false},
		{"b's first heartbeat", hb(), false, true},
		{"b, the same", hb(), false, false},
		{"b holds photos", hb(root), false, true},
		{"b still holds photos", hb(root), false, false},
	}
	for _, st := range steps {
		changed, heard := a.deliver(st.msg, now)
		if changed != st.changed || heard != st.heard {
			t.Errorf("%s: changed %v heard %v, want %v %v", st.name, changed, heard, st.changed, st.heard)
		}
	}
}
