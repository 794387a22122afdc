package groupnet

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipfs/go-cid"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/protocol/group"
)

// GroupOptions open one group.
type GroupOptions struct {
	Secret group.Secret
	// State is the group's state (from disk, or new); the Group owns it
	// from now on: read it through Read.
	State *group.State
	// Incarnation is bumped by the caller at every start (see Heartbeat).
	Incarnation uint64
	// Config holds the group timings.
	Config group.Config
	// SyncInterval is how often to sync with a random connected member
	// (anti-entropy for whatever gossip lost). Zero means 5 minutes.
	SyncInterval time.Duration
	// OnChange is called, with no lock held, after the state changed
	// (gossip, sync or a local action): persist it and re-plan.
	OnChange func()
	// Key is our identity key: it signs our updates, and the group then
	// accepts only updates signed by their writers. Open takes it from the
	// host's peerstore when nil; tests of the sync codec run without one.
	Key crypto.PrivKey
	// OnMemberHears is called, with no lock held, when a member starts to
	// hear the group's topic (we connected, it restarted) or a peer we are
	// connected to becomes a member (it joined): our heartbeat should reach
	// it soon rather than at the next interval, so that it knows what we
	// hold. Nil: nothing.
	OnMemberHears func(peer.ID)
	// OnHeard is called, with no lock held, after a member's heartbeat
	// changed what it is seen to hold or whether it is there (not for
	// every heartbeat): a page showing the group's copies redraws. Nil:
	// nothing.
	OnHeard func()
	// Keyring holds the epoch keys we have (from disk, or from the invite);
	// nil: only the secret's. The Group owns it from now on: persist what
	// MarshalKeys returns after OnChange.
	Keyring *group.Keyring
}

// Group is one group on the network: its state, clock and liveness behind
// one lock, its topic, and the syncs it runs. Safe for concurrent use.
type Group struct {
	svc      *Service // nil in tests that only sync
	id       group.GroupID
	keys     *group.Keys // epoch 0's: sync hellos, and peers of an older kith
	self     peer.ID
	inc      uint64
	cfg      group.Config
	onChange func()
	onHears  func(peer.ID)
	onHeard  func()

	mu     sync.Mutex
	state  *group.State
	ring   *group.Keyring
	sealer map[group.EpochRef]*group.Keys // payload keys by epoch, derived once
	asked  group.EpochRef                 // the last epoch whose key we asked for
	clock  *group.Clock
	live   *group.Liveness
	part   uint16           // next heartbeat page
	lastHB *group.Heartbeat // the last heartbeat sent, which Goodbye repeats
	behind map[peer.ID]bool // members behind at the previous heartbeat

	// members is a snapshot of the state's members, for Service.mayHear;
	// refreshMembers renews it whenever the state changed.
	members atomic.Pointer[map[peer.ID]struct{}]

	tmu       sync.Mutex
	cur       *epochTopic // the topic of the epoch we talk in; nil before Open and after Close
	shut      bool        // on tmu: closed, open no topic any more
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	syncMu    sync.Mutex
	syncing   map[peer.ID]bool
	strangers map[peer.ID]time.Time // on syncMu: last sync started for a sender not known as a member
	closed    sync.Once
}

func newGroup(self peer.ID, o GroupOptions) *Group {
	st := o.State
	if st == nil {
		st = group.NewState()
	}
	onChange := o.OnChange
	if onChange == nil {
		onChange = func() {}
	}
	keys := group.NewKeys(o.Secret)
	ring := o.Keyring
	if ring == nil {
		ring = group.NewKeyring(o.Secret)
	}
	g := &Group{
		id: keys.ID(), keys: keys, self: self, inc: o.Incarnation, cfg: o.Config,
		state: st, ring: ring, sealer: map[group.EpochRef]*group.Keys{group.EpochRef{}: keys},
		clock: group.NewClock(self, nil), live: group.NewLiveness(o.Config, time.Now()),
		behind: map[peer.ID]bool{}, syncing: map[peer.ID]bool{}, strangers: map[peer.ID]time.Time{},
	}
	g.onHears = o.OnMemberHears
	if g.onHears == nil {
		g.onHears = func(peer.ID) {}
	}
	g.onHeard = o.OnHeard
	if g.onHeard == nil {
		g.onHeard = func() {}
	}
	g.onChange = func() {
		g.refreshMembers()
		g.epochChanged()
		onChange()
	}
	if o.Key != nil {
		g.sign(o.Key)
	}
	g.refreshMembers()
	return g
}

// sign makes the group sign what we write and accept only signed updates;
// our own entries written before signatures are signed now.
func (g *Group) sign(key crypto.PrivKey) {
	if err := g.clock.SetSigner(key); err != nil {
		panic("groupnet: " + err.Error()) // the host's own key: cannot mismatch
	}
	if _, err := g.state.SignOwn(key); err != nil {
		panic("groupnet: " + err.Error())
	}
	g.state.RequireSignatures()
}

// refreshMembers renews the members snapshot from the state, and tells
// OnMemberHears of each new member we are connected to.
func (g *Group) refreshMembers() {
	g.mu.Lock()
	ms := g.state.Members()
	g.mu.Unlock()
	set := make(map[peer.ID]struct{}, len(ms))
	for _, m := range ms {
		set[m.ID] = struct{}{}
	}
	old := g.members.Swap(&set)
	if old == nil || g.svc == nil {
		return // the group opens: no one joined
	}
	for id := range set {
		if _, was := (*old)[id]; !was && id != g.self && g.svc.host.Network().Connectedness(id) == network.Connected {
			g.onHears(id) // it joined while connected: it subscribed before it was a member to us
			g.syncOnceMeshed(id)
		}
	}
}

// mayHear reports whether p is a member as of the last state change: a
// peer this group's messages may go to (see Service.mayHear).
func (g *Group) mayHear(p peer.ID) bool {
	_, ok := (*g.members.Load())[p]
	return ok
}

// Open joins the group's topic and starts receiving. It does not make us a
// member: the caller applies State.Join through Apply.
func (s *Service) Open(o GroupOptions) (*Group, error) {
	if o.Key == nil {
		o.Key = s.host.Peerstore().PrivKey(s.host.ID())
	}
	if o.Key == nil {
		return nil, fmt.Errorf("open group: the host has no private key to sign with")
	}
	g := newGroup(s.host.ID(), o)
	g.svc = s
	s.mu.Lock()
	if _, ok := s.groups[g.id]; ok {
		s.mu.Unlock()
		return nil, fmt.Errorf("open group %s: already open", g.id)
	}
	s.groups[g.id] = g
	s.mu.Unlock()
	if err := g.retopic(); err != nil {
		g.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(s.ctx)
	g.cancel = cancel
	every := o.SyncInterval
	if every <= 0 {
		every = 5 * time.Minute
	}
	g.wg.Add(1)
	go func() { defer g.wg.Done(); g.syncLoop(ctx, every) }()
	return g, nil
}

// ID is the group's ID.
func (g *Group) ID() group.GroupID { return g.id }

// Close leaves the topic and stops the group's goroutines; the state stays
// readable.
func (g *Group) Close() {
	g.closed.Do(func() {
		if g.cancel != nil {
			g.cancel()
		}
		g.wg.Wait()
		g.tmu.Lock()
		g.shut = true
		cur := g.cur
		g.cur = nil
		g.tmu.Unlock()
		if cur != nil {
			cur.close()
		}
		if g.svc != nil {
			g.svc.forget(g)
		}
	})
}

// Read calls fn with the state and liveness under the group's lock; fn must
// not keep them (Clone the state to keep it).
func (g *Group) Read(fn func(s *group.State, l *group.Liveness)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	fn(g.state, g.live)
}

// Compact drops tombstones older than horizon (see group.State.Compact)
// and returns how many went; the state then needs saving.
func (g *Group) Compact(now time.Time, horizon time.Duration) int {
	g.mu.Lock()
	n := g.state.Compact(now, horizon)
	g.mu.Unlock()
	if n > 0 {
		g.onChange()
	}
	return n
}

// Apply runs a local action (Join, Share, Unshare, Leave, Remove) on the state and
// gossips the update it returns.
func (g *Group) Apply(ctx context.Context, fn func(s *group.State, c *group.Clock) (group.Update, error)) error {
	g.mu.Lock()
	u, err := fn(g.state, g.clock)
	g.mu.Unlock()
	if err != nil {
		return err
	}
	// Published before the change hook, which may move us to a new key
	// epoch (a removal): the members still on the old topic must hear it.
	// The removed member no longer may (refreshMembers).
	g.refreshMembers()
	err = g.publish(ctx, group.Message{Update: &u})
	g.onChange()
	return err
}

// Interval is how long to wait before the next heartbeat: the group's
// heartbeat interval for its current size (group.Config.HeartbeatEvery).
func (g *Group) Interval() time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.interval()
}

func (g *Group) interval() time.Duration {
	return g.cfg.HeartbeatEvery(len(g.state.Members()))
}

// Heartbeat gossips that we are alive, what we use and one page of the
// replica roots we hold (all of them, in turn, over successive calls),
// after SyncBehind.
func (g *Group) Heartbeat(ctx context.Context, used int64, held []cid.Cid) error {
	g.mu.Lock()
	parts := group.HeldParts(len(held))
	part := g.part % parts
	g.part = part + 1
	var roots []cid.Cid
	for _, r := range held {
		if group.HeldPart(r, parts) == part && len(roots) < group.MaxHeldPage {
			roots = append(roots, r)
		}
	}
	d := g.state.Digest()
	hb := group.Heartbeat{
		Member: g.self, Clock: g.clock.Now(), Incarnation: g.inc, Used: used,
		Held: len(held), Part: part, Parts: parts, Roots: roots,
		Digest: d[:group.HeartbeatDigestLen], Every: g.interval(),
	}
	last := hb
	g.lastHB = &last
	g.mu.Unlock()
	g.SyncBehind()
	return g.publish(ctx, group.Message{Heartbeat: &hb})
}

// Goodbye tells the group that we go offline (the daemon stops): our last
// heartbeat again, with a new clock and Offline set, so that members show
// us offline at once instead of alive until they suspect us. Nothing is
// sent before our first heartbeat. Best effort: a goodbye lost on the way
// leaves members to notice our silence, as before.
func (g *Group) Goodbye(ctx context.Context) error {
	g.mu.Lock()
	if g.lastHB == nil {
		g.mu.Unlock()
		return nil
	}
	hb := *g.lastHB
	hb.Clock, hb.Offline = g.clock.Now(), true
	g.mu.Unlock()
	return g.publish(ctx, group.Message{Heartbeat: &hb})
}

// SyncBehind starts a sync with one member whose heartbeat carried a state
// digest other than ours at this call and the previous one (twice, so as
// not to sync while an update is still spreading). Heartbeat calls it; in a
// large group, whose heartbeats are rarer, call it also every base
// heartbeat interval so repairs do not slow down as the group grows.
func (g *Group) SyncBehind() {
	g.mu.Lock()
	var lagging []peer.ID
	behind := map[peer.ID]bool{}
	for _, p := range g.live.Behind(g.state) {
		if p == g.self {
			continue
		}
		behind[p] = true
		if g.behind[p] {
			lagging = append(lagging, p)
		}
	}
	g.behind = behind
	g.mu.Unlock()
	if len(lagging) > 0 {
		g.SyncSoon(lagging[rand.IntN(len(lagging))])
	}
}

// publish gossips m on the topic of the epoch we talk in.
func (g *Group) publish(ctx context.Context, m group.Message) error {
	g.tmu.Lock()
	t := g.cur
	g.tmu.Unlock()
	if t == nil {
		return nil
	}
	b, err := group.EncodeMessage(m)
	if err != nil {
		return err
	}
	if err := t.topic.Publish(ctx, t.keys.Seal(g.self, b)); err != nil {
		return fmt.Errorf("publish to group %s: %w", g.id, err)
	}
	return nil
}

// validate is the topic validator: nothing reaches the state, or is
// forwarded, before the payload opened for its signer, decoded within
// bounds, and came from someone allowed to say it. Tampering and malformed
// messages are rejected (GossipSub's peer scoring punishes the forwarder);
// a sender we do not know as a member yet, or a clock ahead of ours, is
// only ignored: the update comes back through sync, which a sender we do
// not know starts (it sealed the message with the group's key: it has
// joined, and its join has not reached us, as when it joined through a
// relay before any gossip could flow).
func (g *Group) validate(keys *group.Keys, m *pubsub.Message) pubsub.ValidationResult {
	from := m.GetFrom()
	msg, err := g.checkWith(keys, from, m.Data, time.Now())
	switch {
	case err == nil:
		m.ValidatorData = msg
		return pubsub.ValidationAccept
	case errors.Is(err, group.ErrNotMember):
		g.syncStranger(from)
		return pubsub.ValidationIgnore
	case errors.Is(err, group.ErrClockSkew):
		return pubsub.ValidationIgnore
	default:
		return pubsub.ValidationReject
	}
}

// check opens (with the keys of the epoch we talk in), decodes and
// validates a gossip payload signed by sender.
func (g *Group) check(sender peer.ID, data []byte, now time.Time) (group.Message, error) {
	g.mu.Lock()
	keys := g.sealKeysLocked()
	g.mu.Unlock()
	return g.checkWith(keys, sender, data, now)
}

// checkWith is check with the keys of the topic the payload came on.
func (g *Group) checkWith(keys *group.Keys, sender peer.ID, data []byte, now time.Time) (group.Message, error) {
	if len(data) > group.MaxMessageSize+group.Overhead {
		return group.Message{}, fmt.Errorf("gossip from %s: %d bytes: %w", sender, len(data), group.ErrTooLarge)
	}
	plain, err := keys.Open(sender, data)
	if err != nil {
		return group.Message{}, err
	}
	msg, err := group.DecodeMessage(plain)
	if err != nil {
		return group.Message{}, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := msg.Validate(sender, g.state, now); err != nil {
		return group.Message{}, err
	}
	return msg, nil
}

// receive merges what the validator accepted on sub.
func (g *Group) receive(ctx context.Context, sub *pubsub.Subscription) {
	for {
		m, err := sub.Next(ctx)
		if err != nil {
			return
		}
		msg, ok := m.ValidatorData.(group.Message)
		if !ok {
			continue
		}
		changed, heard := g.deliver(msg, time.Now())
		if changed {
			g.onChange()
		}
		if heard {
			g.onHeard()
		}
	}
}

// deliver merges one validated message and reports whether the state
// changed, and whether a heartbeat changed what a member is seen to hold
// or whether it is there.
func (g *Group) deliver(msg group.Message, now time.Time) (changed, heard bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if u := msg.Update; u != nil {
		if g.clock.Observe(u.Version()) != nil {
			return false, false
		}
		changed, err := g.state.ApplyUpdate(*u)
		return err == nil && changed, false
	}
	hb := *msg.Heartbeat
	if g.clock.Observe(hb.Clock) == nil {
		before := g.live.Shown()
		g.live.Observe(hb, now)
		return false, g.live.Shown() != before
	}
	return false, false
}

// isMember reports whether p is a current member.
func (g *Group) isMember(p peer.ID) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return p != g.self && g.state.IsMember(p)
}

// HasMember reports whether p is a current member other than this node.
func (g *Group) HasMember(p peer.ID) bool { return g.isMember(p) }

// ConnectedMembers returns the members we have a connection to.
func (g *Group) ConnectedMembers() []peer.ID {
	if g.svc == nil {
		return nil
	}
	var out []peer.ID
	for _, p := range g.svc.host.Network().Peers() {
		if g.isMember(p) {
			out = append(out, p)
		}
	}
	return out
}

// openResync is when syncLoop syncs the second time after the group
// opened (a variable for tests).
var openResync = 5 * time.Second

// syncLoop syncs with a random connected member now, again a few seconds
// later (updates published while the GossipSub mesh of a newly joined group
// was forming are lost to us), then every interval.
func (g *Group) syncLoop(ctx context.Context, every time.Duration) {
	t := time.NewTimer(0)
	defer t.Stop()
	next := min(every, openResync)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if ps := g.ConnectedMembers(); len(ps) > 0 {
			g.SyncSoon(ps[rand.IntN(len(ps))])
		}
		t.Reset(next)
		next = every
	}
}

// watchSubscribers tells OnMemberHears of each member that subscribes to
// the topic, and syncs with each peer that subscribes without being a
// member as far as we know. Messages go to members only
// (Service.mayHear), so a member whose join never reached us (it joined
// while it could reach nobody, or only through a relay) would never be
// heard; the sync, sealed with the group's key, learns its join if it has
// one, and tells an outsider nothing.
func (g *Group) watchSubscribers(ctx context.Context, events *pubsub.TopicEventHandler) {
	for {
		ev, err := events.NextPeerEvent(ctx)
		if err != nil {
			return
		}
		switch {
		case ev.Type != pubsub.PeerJoin || ev.Peer == g.self:
		case g.isMember(ev.Peer):
			g.onHears(ev.Peer)
		default:
			g.syncStranger(ev.Peer)
		}
	}
}

// strangerSyncEvery bounds the syncs with one sender that is not a member
// as far as we know (a left member whose heartbeats still circulate).
const strangerSyncEvery = 30 * time.Second

// syncStranger syncs with p, a subscriber to the topic or a sender of a
// message sealed with the group's key that our state does not list as a
// member, at most once per strangerSyncEvery.
func (g *Group) syncStranger(p peer.ID) {
	if p == g.self || p == "" {
		return
	}
	now := time.Now()
	g.syncMu.Lock()
	last, seen := g.strangers[p]
	if seen && now.Sub(last) < strangerSyncEvery {
		g.syncMu.Unlock()
		return
	}
	for q, at := range g.strangers {
		if now.Sub(at) >= strangerSyncEvery {
			delete(g.strangers, q)
		}
	}
	g.strangers[p] = now
	g.syncMu.Unlock()
	g.SyncSoon(p)
}

// syncOnceMeshed syncs with p, which just became a member while we are
// connected to it, once GossipSub has had time to graft it into the
// topic's mesh: what either of us published before then (a share made
// right after a join) went to a mesh without it, and would otherwise wait
// for the joiner's sync a few seconds after it opened the group.
func (g *Group) syncOnceMeshed(p peer.ID) {
	g.svc.goFn(func(ctx context.Context) {
		t := time.NewTimer(g.svc.meshDelay)
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
			g.tmu.Lock()
			shut := g.shut
			g.tmu.Unlock()
			if !shut {
				g.SyncSoon(p)
			}
		}
	})
}

// SyncSoon starts a sync with p in the background unless one is running
// (after dialling a member we do not know yet, such as an inviter).
func (g *Group) SyncSoon(p peer.ID) {
	if g.svc == nil {
		return
	}
	g.syncMu.Lock()
	if g.syncing[p] {
		g.syncMu.Unlock()
		return
	}
	g.syncing[p] = true
	g.syncMu.Unlock()
	g.svc.goFn(func(ctx context.Context) {
		defer func() {
			g.syncMu.Lock()
			delete(g.syncing, p)
			g.syncMu.Unlock()
		}()
		ctx, cancel := context.WithTimeout(ctx, syncTimeout)
		defer cancel()
		if err := g.Sync(ctx, p); err != nil && ctx.Err() == nil {
			g.svc.log.Debug("group sync", "group", g.id, "peer", p, "err", err)
		}
	})
}
