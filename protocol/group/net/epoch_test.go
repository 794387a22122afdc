package groupnet

import (
	"context"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/protocol/group"
)

// netMember is one member on a real host on loopback.
type netMember struct {
	key  crypto.PrivKey
	host host.Host
	svc  *Service
	g    *Group
}

// startMember starts a host with key and opens sec's group on it with st
// and ring (new when nil).
func startMember(t *testing.T, key crypto.PrivKey, sec group.Secret, st *group.State, ring *group.Keyring) *netMember {
	t.Helper()
	return startMemberTimed(t, key, sec, st, ring, 50*time.Millisecond, time.Second)
}

// startMemberTimed is startMember with GossipSub's heartbeat and the
// group's sync interval.
func startMemberTimed(t testing.TB, key crypto.PrivKey, sec group.Secret, st *group.State, ring *group.Keyring, heartbeat, syncEvery time.Duration) *netMember {
	t.Helper()
	h, err := libp2p.New(libp2p.Identity(key), libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := NewService(h, WithGossipHeartbeat(heartbeat))
	if err != nil {
		t.Fatal(err)
	}
	g, err := svc.Open(GroupOptions{Secret: sec, State: st, Keyring: ring, Config: group.TestConfig(), SyncInterval: syncEvery})
	if err != nil {
		t.Fatal(err)
	}
	m := &netMember{key: key, host: h, svc: svc, g: g}
	t.Cleanup(m.stop)
	return m
}

func (m *netMember) stop() {
	m.svc.Close()
	_ = m.host.Close()
}

func connect(t *testing.T, ms ...*netMember) {
	t.Helper()
	for i, a := range ms {
		for _, b := range ms[i+1:] {
			if err := a.host.Connect(context.Background(), peer.AddrInfo{ID: b.host.ID(), Addrs: b.host.Addrs()}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func hasIntent(g *Group, root string) bool {
	var ok bool
	g.Read(func(s *group.State, _ *group.Liveness) {
		in, found := s.Intent(testRoot(nil, root))
		ok = found && !in.Withdrawn
	})
	return ok
}

// TestRemovalRotatesKey: four members on loopback; one is offline while a
// removes x. a makes epoch 1 and pushes its key to the members online;
// gossip after it is sealed with a key x lacks, on a topic x does not
// know, and a share made then never reaches x. The offline member gets the
// key at its next sync, and an invite hands it to a joiner but not to x.
func TestRemovalRotatesKey(t *testing.T) {
	sec, _ := group.NewSecret()
	keys := make([]crypto.PrivKey, 4)
	for i := range keys {
		keys[i], _, _ = crypto.GenerateEd25519Key(rand.Reader)
	}
	ms := make([]*netMember, 4)
	for i := range ms {
		ms[i] = startMember(t, keys[i], sec, nil, nil)
	}
	for _, m := range ms {
		if err := m.g.Apply(context.Background(), func(s *group.State, c *group.Clock) (group.Update, error) {
			return s.Join(c, "laptop", nil, 1<<30)
		}); err != nil {
			t.Fatal(err)
		}
	}
	connect(t, ms...)
	a, b, c, x := ms[0], ms[1], ms[2], ms[3]
	waitUntil(t, "every member to list four", func() bool {
		for _, m := range ms {
			n := 0
			m.g.Read(func(s *group.State, _ *group.Liveness) { n = len(s.Members()) })
			if n != 4 {
				return false
			}
		}
		return true
	})
	oldTopic := topicOf(x.g)

	// c goes offline, keeping its state (it holds only epoch 0's key).
	var cState *group.State
	c.g.Read(func(s *group.State, _ *group.Liveness) { cState = s.Clone() })
	c.stop()

	if err := a.g.Apply(context.Background(), func(s *group.State, cl *group.Clock) (group.Update, error) {
		return s.Remove(cl, x.g.self)
	}); err != nil {
		t.Fatal(err)
	}
	ref, held := a.g.Epoch()
	if ref.N != 1 || !held {
		t.Fatalf("the remover is in epoch %s (key held: %v), want 1", ref, held)
	}
	waitUntil(t, "b to be handed the key", func() bool { r, ok := b.g.Epoch(); return r == ref && ok })
	waitUntil(t, "a and b on the new topic", func() bool {
		return topicOf(a.g) == ref2topic(t, a.g, ref) && topicOf(b.g) == topicOf(a.g)
	})
	if topicOf(a.g) == oldTopic {
		t.Fatal("the new epoch kept the old topic")
	}

	// What b gossips now, x cannot open; and a share made now never
	// reaches x.
	var seal []byte
	b.g.mu.Lock()
	seal = b.g.sealKeysLocked().Seal(b.g.self, []byte(`{"h":{}}`))
	b.g.mu.Unlock()
	x.g.mu.Lock()
	_, xHeld := x.g.ring.Key(ref)
	x.g.mu.Unlock()
	if xHeld {
		t.Fatal("the removed member holds the new key")
	}
	if _, err := x.g.checkWith(x.g.keys, b.g.self, seal, time.Now()); !errors.Is(err, group.ErrAuth) {
		t.Fatalf("x opening b's new gossip: %v, want ErrAuth", err)
	}
	if err := b.g.Apply(context.Background(), func(s *group.State, cl *group.Clock) (group.Update, error) {
		return s.Share(cl, testRoot(t, "after"), "after", 10, 2)
	}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "a to get b's share", func() bool { return hasIntent(a.g, "after") })

	// c comes back: its next sync hands it the key, and it moves on.
	c = startMember(t, keys[2], sec, cState, nil)
	ms[2] = c
	connect(t, a, c)
	waitUntil(t, "c to be handed the key", func() bool { r, ok := c.g.Epoch(); return r == ref && ok })
	waitUntil(t, "c to get b's share", func() bool { return hasIntent(c.g, "after") })
	waitUntil(t, "c on the new topic", func() bool { return topicOf(c.g) == topicOf(a.g) })

	// x learned it was removed, holds no new key, and never saw the share.
	waitUntil(t, "x to learn it was removed", func() bool {
		var removed bool
		x.g.Read(func(s *group.State, _ *group.Liveness) { _, removed = s.Removed(x.g.self) })
		return removed
	})
	if hasIntent(x.g, "after") {
		t.Fatal("the share made after the removal reached the removed member")
	}
	if r, ok := x.g.Epoch(); ok && r.N > 0 {
		t.Fatal("the removed member holds the new key")
	}

	// An invite hands the new key to a joiner, and nothing to x.
	joiner, _, _ := crypto.GenerateEd25519Key(rand.Reader)
	jid, _ := peer.IDFromPrivateKey(joiner)
	grants := a.g.InviteGrants(jid)
	ring := group.NewKeyring(sec)
	for _, gr := range grants {
		if _, err := ring.Add(gr); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := ring.Key(ref); !ok {
		t.Fatal("the invite did not hand the joiner the current key")
	}
	if gs := a.g.InviteGrants(x.g.self); len(gs) != 0 {
		t.Fatalf("an invite hands the removed member %d keys", len(gs))
	}
}

// ref2topic is the topic of epoch ref, from g's keyring.
func ref2topic(t *testing.T, g *Group, ref group.EpochRef) string {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	k, ok := g.ring.Key(ref)
	if !ok {
		return ""
	}
	return k.Topic()
}

// topicOf is the topic g talks on.
func topicOf(g *Group) string {
	g.tmu.Lock()
	defer g.tmu.Unlock()
	if g.cur == nil {
		return ""
	}
	return g.cur.name
}
