package groupnet

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/protocol/group"
)

// signingMember is member with an identity key: it signs what it writes and
// accepts only signed updates, as in a daemon.
func signingMember(t *testing.T, sec group.Secret) *Group {
	t.Helper()
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	g := newGroup(id, GroupOptions{Secret: sec, Config: group.TestConfig(), Key: key})
	err = g.Apply(context.Background(), func(s *group.State, c *group.Clock) (group.Update, error) {
		return s.Join(c, "laptop", nil, 1<<30)
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func syncAll(t *testing.T, gs ...*Group) {
	t.Helper()
	for _, a := range gs {
		for _, b := range gs {
			if a != b {
				if ea, eb := pipeSync(a, b); ea != nil || eb != nil {
					t.Fatalf("sync: %v / %v", ea, eb)
				}
			}
		}
	}
}

// TestRemovedMemberLearnsAtSync: after a removes b, b's next sync with any
// member is refused with the removal, which b then knows; the others no
// longer count b as a member.
func TestRemovedMemberLearnsAtSync(t *testing.T) {
	sec, _ := group.NewSecret()
	a, b, c := signingMember(t, sec), signingMember(t, sec), signingMember(t, sec)
	syncAll(t, a, b, c)
	err := a.Apply(context.Background(), func(s *group.State, cl *group.Clock) (group.Update, error) {
		return s.Remove(cl, b.self)
	})
	if err != nil {
		t.Fatal(err)
	}
	if ea, eb := pipeSync(a, c); ea != nil || eb != nil {
		t.Fatalf("a-c sync: %v / %v", ea, eb)
	}
	if c.HasMember(b.self) {
		t.Fatal("c still counts b as a member")
	}
	// b syncs with c (not the remover): refused, and told.
	eb, ec := pipeSync(b, c)
	if !errors.Is(eb, group.ErrRemoved) || !errors.Is(ec, group.ErrRemoved) {
		t.Fatalf("b-c sync: %v / %v, want ErrRemoved on both sides", eb, ec)
	}
	var removedBy peer.ID
	b.Read(func(s *group.State, _ *group.Liveness) {
		if r, ok := s.Removed(b.self); ok {
			removedBy = r.Version.Node
		}
	})
	if removedBy != a.self {
		t.Fatalf("b thinks it was removed by %q, want a", removedBy)
	}
	// From now on b does not even open a sync.
	if eb, _ := pipeSync(b, a); !errors.Is(eb, group.ErrNotMember) {
		t.Fatalf("b's next sync: %v, want ErrNotMember", eb)
	}
}

// TestSyncRefusesForgedUpdates: a member cannot slip an update written in
// another member's name into a sync (it has the group secret, not their key).
func TestSyncRefusesForgedUpdates(t *testing.T) {
	sec, _ := group.NewSecret()
	a, b, m := signingMember(t, sec), signingMember(t, sec), signingMember(t, sec)
	syncAll(t, a, b, m)
	// m writes "b shares X" and offers it in a sync step.
	forged := group.Update{Intent: &group.Intent{
		Root: testRoot(t, "x"), Name: "x", Size: 1, Copies: 1, Who: b.self,
	}}
	v := group.HLC{Wall: m.clock.Now().Wall, Node: b.self}
	forged.Intent.Created, forged.Intent.Version = v, v
	if err := forged.Validate(); err != nil {
		t.Fatal(err) // well-formed: only the signature is missing
	}
	msg := group.SyncMsg{Entries: []group.Update{forged}}
	a.mu.Lock()
	_, _, err := a.state.SyncStep(msg, v.Time())
	a.mu.Unlock()
	if !errors.Is(err, group.ErrAuth) {
		t.Fatalf("forged entry in a sync step: %v, want ErrAuth", err)
	}
}

// TestSyncHandsKeyOnlyToMembers: after a removes x (and so makes epoch 1),
// a sync hands the new key to a current member and not to x, which is
// refused at its hello; a content frame of the new epoch opens only with
// its key.
func TestSyncHandsKeyOnlyToMembers(t *testing.T) {
	sec, _ := group.NewSecret()
	a, b, x := signingMember(t, sec), signingMember(t, sec), signingMember(t, sec)
	syncAll(t, a, b, x)
	err := a.Apply(context.Background(), func(s *group.State, cl *group.Clock) (group.Update, error) {
		return s.Remove(cl, x.self)
	})
	if err != nil {
		t.Fatal(err)
	}
	ref, held := a.Epoch()
	if ref.N != 1 || !held {
		t.Fatalf("the remover is in epoch %s (held %v), want 1", ref, held)
	}
	for _, initiator := range []bool{true, false} {
		var ex, ea error
		if initiator {
			ex, ea = pipeSync(x, a)
		} else {
			ea, ex = pipeSync(a, x)
		}
		if ex == nil || ea == nil {
			t.Fatalf("x synced with a: %v / %v", ex, ea)
		}
		x.mu.Lock()
		_, xHeld := x.ring.Key(ref)
		x.mu.Unlock()
		if xHeld {
			t.Fatal("the removed member was handed the new key")
		}
	}
	if eb, ea := pipeSync(b, a); eb != nil || ea != nil {
		t.Fatalf("b-a sync: %v / %v", eb, ea)
	}
	if r, held := b.Epoch(); r != ref || !held {
		t.Fatalf("b is in epoch %s (held %v) after syncing with a", r, held)
	}
	// A second sync runs in the new epoch, both sides holding its key.
	if eb, ea := pipeSync(a, b); eb != nil || ea != nil {
		t.Fatalf("a-b sync in epoch 1: %v / %v", eb, ea)
	}
}

// TestSyncRefusesOlderKithAfterRotation: a peer whose hello predates key
// epochs would be sent content sealed with epoch 0's keys; once the group
// has changed keys, it is refused instead. Before, it syncs as it did.
func TestSyncRefusesOlderKithAfterRotation(t *testing.T) {
	sec, _ := group.NewSecret()
	a, b, x := signingMember(t, sec), signingMember(t, sec), signingMember(t, sec)
	syncAll(t, a, b, x)
	oldHello := func() []byte {
		h, err := b.hello()
		if err != nil {
			t.Fatal(err)
		}
		h.Ver, h.Keys = 0, nil
		plain, err := json.Marshal(h)
		if err != nil {
			t.Fatal(err)
		}
		sealed := b.keys.Seal(b.self, plain)
		return append(binary.AppendUvarint(nil, uint64(len(sealed))), sealed...)
	}
	respond := func() error {
		var out bytes.Buffer
		return a.runSync(struct {
			io.Reader
			io.Writer
		}{bytes.NewReader(oldHello()), &out}, b.self, false)
	}
	if err := respond(); err == nil || errors.Is(err, group.ErrInvalid) {
		// (the stream ends after the hello: the exchange fails later)
		t.Fatalf("before a rotation: %v, want the sync to go on past the hello", err)
	}
	err := a.Apply(context.Background(), func(s *group.State, cl *group.Clock) (group.Update, error) {
		return s.Remove(cl, x.self)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := respond(); !errors.Is(err, group.ErrInvalid) || !strings.Contains(err.Error(), "too old") {
		t.Fatalf("after a rotation: %v, want a refusal of the older kith", err)
	}
}
