package groupnet

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/protocol/group"
)

// Key epochs on the network (see group.Secret and group/epoch.go).
//
// A group talks on the topic of one epoch at a time, sealed with its keys:
// the state's current epoch when we hold its key, else the newest we hold
// (group.Keyring.Use). After every state change (epochChanged):
//   - if a removal is not covered by the current epoch and it is ours to
//     rotate (group.State.ShouldRotate), we make the next epoch, gossip its
//     entry (commitment only) on the old topic, and push its key to each
//     connected member by syncing with it: the key travels in the sync's
//     key exchange, to current members only (sync.go);
//   - if the state names an epoch whose key we lack, we sync with its maker
//     (or another connected member) to be handed it; a member that was
//     offline gets it at its next sync with anyone who has it;
//   - we move to the topic of the epoch we should talk in.

// epochTopic is the GossipSub topic of one epoch, with its keys.
type epochTopic struct {
	svc    *Service
	g      *Group
	ref    group.EpochRef
	keys   *group.Keys
	name   string
	topic  *pubsub.Topic
	sub    *pubsub.Subscription
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// openTopic joins the topic of epoch ref and starts receiving on it.
func (g *Group) openTopic(ref group.EpochRef, key group.EpochKey, keys *group.Keys) (*epochTopic, error) {
	s := g.svc
	t := &epochTopic{svc: s, g: g, ref: ref, keys: keys, name: key.Topic()}
	s.byTopic.Store(t.name, g)
	validate := func(_ context.Context, _ peer.ID, m *pubsub.Message) pubsub.ValidationResult {
		return g.validate(keys, m)
	}
	if err := s.ps.RegisterTopicValidator(t.name, validate); err != nil {
		s.byTopic.CompareAndDelete(t.name, g)
		return nil, fmt.Errorf("open group %s: register validator: %w", g.id, err)
	}
	var err error
	if t.topic, err = s.ps.Join(t.name); err == nil {
		t.sub, err = t.topic.Subscribe()
	}
	if err != nil {
		t.close()
		return nil, fmt.Errorf("open group %s: join topic: %w", g.id, err)
	}
	events, err := t.topic.EventHandler()
	if err != nil {
		t.close()
		return nil, fmt.Errorf("open group %s: topic events: %w", g.id, err)
	}
	ctx, cancel := context.WithCancel(s.ctx)
	t.cancel = cancel
	t.wg.Add(2)
	go func() { defer t.wg.Done(); g.receive(ctx, t.sub) }()
	go func() { defer t.wg.Done(); defer events.Cancel(); g.watchSubscribers(ctx, events) }()
	return t, nil
}

// close leaves the topic.
func (t *epochTopic) close() {
	if t.cancel != nil {
		t.cancel()
	}
	if t.sub != nil {
		t.sub.Cancel()
	}
	t.wg.Wait()
	if t.topic != nil {
		_ = t.topic.Close()
	}
	_ = t.svc.ps.UnregisterTopicValidator(t.name)
	t.svc.byTopic.CompareAndDelete(t.name, t.g)
}

// sealKeysLocked returns the epoch we talk in and its payload keys; g.mu
// is held.
func (g *Group) sealKeysLocked() *group.Keys {
	_, keys := g.useLocked()
	return keys
}

func (g *Group) useLocked() (group.EpochRef, *group.Keys) {
	ref := g.ring.Use(g.state)
	return ref, g.keysForLocked(ref)
}

// keysForLocked returns the payload keys of an epoch we hold, or nil.
func (g *Group) keysForLocked(ref group.EpochRef) *group.Keys {
	if k, ok := g.sealer[ref]; ok {
		return k
	}
	key, ok := g.ring.Key(ref)
	if !ok {
		return nil
	}
	k := group.NewEpochKeys(g.id, key)
	g.sealer[ref] = k
	return k
}

// retopic moves us to the topic of the epoch we should talk in. The old
// topic is left in the background: retopic may run on the old topic's own
// receiving goroutine (a gossiped entry that changes the epoch), which
// leaving it waits for.
func (g *Group) retopic() error {
	if g.svc == nil {
		return nil
	}
	g.tmu.Lock()
	defer g.tmu.Unlock()
	if g.shut {
		return nil
	}
	g.mu.Lock()
	ref, keys := g.useLocked()
	key, _ := g.ring.Key(ref)
	g.mu.Unlock()
	if g.cur != nil && g.cur.ref == ref {
		return nil
	}
	t, err := g.openTopic(ref, key, keys)
	if err != nil {
		return err
	}
	old := g.cur
	g.cur = t
	if old != nil {
		g.svc.goFn(func(context.Context) { old.close() })
		g.svc.log.Info("group moved to a new key epoch", "group", g.id, "epoch", ref)
	}
	return nil
}

// Epoch returns the group's current epoch and whether we hold its key.
func (g *Group) Epoch() (group.EpochRef, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	cur, _ := g.state.Epoch()
	_, held := g.ring.Key(cur.Ref())
	return cur.Ref(), held
}

// MarshalKeys encodes the epoch keys we hold, for the caller to keep in a
// 0600 file (group.Keyring.Marshal); nil while we hold only epoch 0's,
// which is the secret.
func (g *Group) MarshalKeys() ([]byte, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.ring.Refs()) == 0 {
		return nil, nil
	}
	return g.ring.Marshal()
}

// InviteGrants returns the epoch keys to hand, with the secret, to joiner,
// who redeemed an invite: every key we hold of an epoch that does not shut
// it out. Nothing if it was removed.
func (g *Group) InviteGrants(joiner peer.ID) []group.KeyGrant {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, removed := g.state.Removed(joiner); removed {
		return nil
	}
	return g.ring.Grants(nil, func(ref group.EpochRef) bool {
		e, ok := g.state.EpochOf(ref)
		return ok && !slices.Contains(e.Removed, joiner)
	})
}

// epochChanged runs after every state change: rotate if it is ours to,
// ask for a key we lack, move topics (see the top of this file).
func (g *Group) epochChanged() {
	g.mu.Lock()
	var rotated *group.Update
	var pushTo []peer.ID
	if g.state.ShouldRotate(g.self) {
		u, key, err := g.state.Rotate(g.clock)
		if err == nil {
			_, err = g.ring.Add(group.KeyGrant{Epoch: u, Key: key[:]})
		}
		if err != nil {
			g.mu.Unlock()
			g.logf("new key epoch", err)
			return
		}
		rotated = &u
	}
	cur, _ := g.state.Epoch()
	_, held := g.ring.Key(cur.Ref())
	ask := !held && cur.Ref() != g.asked
	if ask {
		g.asked = cur.Ref()
	}
	g.mu.Unlock()

	if rotated != nil {
		g.refreshMembers()
		// The entry (a commitment, no key) goes out on the old topic, so
		// members that are online learn the epoch and fetch its key.
		if err := g.publish(context.Background(), group.Message{Update: rotated}); err != nil {
			g.logf("gossip the new key epoch", err)
		}
		pushTo = g.ConnectedMembers()
	}
	if err := g.retopic(); err != nil {
		g.logf("move to the new key epoch's topic", err)
	}
	for _, p := range pushTo {
		g.SyncSoon(p) // the sync hands it the key
	}
	if ask {
		g.askKey(cur)
	}
}

// askKey syncs with the maker of epoch e, or else with a connected member,
// to be handed its key.
func (g *Group) askKey(e group.Epoch) {
	maker := e.Version.Node
	ps := g.ConnectedMembers()
	for _, p := range ps {
		if p == maker {
			g.SyncSoon(p)
			return
		}
	}
	if len(ps) > 0 {
		g.SyncSoon(ps[rand.IntN(len(ps))])
	}
}

func (g *Group) logf(what string, err error) {
	if g.svc != nil {
		g.svc.log.Warn("group "+what, "group", g.id, "err", err)
	}
}
