package node

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/node/replicate"
	"github.com/kith-p2p/kith/protocol/group"
	groupnet "github.com/kith-p2p/kith/protocol/group/net"
)

// localGroup is one group this node is in: its identity and folder, the
// network side (groupnet), and its replication loop (replicate).
type localGroup struct {
	n      *Node
	set    *groupSet
	net    *groupnet.Group
	id     group.GroupID
	name   string
	secret group.Secret
	inc    uint64
	dir    string
	rep    *replicate.Replicator

	saveMu    sync.Mutex // one save at a time: the last state read is the last written
	keysMu    sync.Mutex
	savedKeys []byte // the epoch keys as last written
}

// groupName is the name (as this node calls it) of the group a pin
// record's owner names: its ID if it is not one of ours any more, "" for
// the user.
func (n *Node) groupName(o blockstore.Owner) string {
	id, _, ok := o.Group()
	if !ok {
		return ""
	}
	if gs, err := n.groupSet(); err == nil {
		if g, err := gs.find(id); err == nil {
			return g.name
		}
	}
	return id
}

// newReplicator wires g's replication loop to the node; g.net is set on
// it once the group's network side is open.
func (g *localGroup) newReplicator() *replicate.Replicator {
	n := g.n
	env := replicaEnv{n: n}
	return replicate.New(replicate.Config{
		ID: g.id, Name: g.name,
		Group:            g.set.cfg,
		FetchConcurrency: n.cfg.Groups.FetchConcurrency,
		Pins:             env, Fetcher: env, Disk: env, Peers: env,
		Log:     n.log,
		Context: n.ctx,
		Go:      n.background,
		Save:    g.save,
		Removed: g.checkRemoved,
		Shown:   n.groupWatch.notify,
	})
}

// changed is the state's change hook: save soon, re-plan, and tell the
// pages.
func (g *localGroup) changed() {
	g.rep.Changed()
	g.n.groupWatch.notify()
}

// holdings is what our heartbeat reports: the bytes and roots we hold.
func (g *localGroup) holdings() (int64, []cid.Cid) { return g.rep.Holdings() }

// save writes the state and the epoch keys (and is called at exit too).
// Errors are logged: the state is rebuilt from peers by sync if it is
// lost, and a member hands us a lost key at our next sync.
func (g *localGroup) save() {
	g.saveMu.Lock()
	defer g.saveMu.Unlock()
	var b []byte
	var err error
	g.net.Read(func(s *group.State, _ *group.Liveness) { b, err = s.Marshal() })
	if err == nil {
		if g.rep.Stopped() {
			return
		}
		err = writeFileAtomic(filepath.Join(g.dir, "state"), b, 0o600)
	}
	if err != nil {
		g.n.log.Warn("save group state", "group", g.id, "err", err)
	}
	if err := g.saveKeys(); err != nil {
		g.n.log.Warn("save group keys", "group", g.id, "err", err)
	}
}

// saveKeys writes the epoch keys (0600, atomically) when they changed.
func (g *localGroup) saveKeys() error {
	b, err := g.net.MarshalKeys()
	if err != nil || b == nil { // nil: epoch 0's key only, which is the secret
		return err
	}
	g.keysMu.Lock()
	defer g.keysMu.Unlock()
	if string(b) == string(g.savedKeys) {
		return nil
	}
	if err := writeFileAtomic(filepath.Join(g.dir, keysFile), b, 0o600); err != nil {
		return err
	}
	g.savedKeys = b
	return nil
}

// saveMeta writes the group's secret (0600) and metadata.
func (g *localGroup) saveMeta() error {
	if err := writeFileAtomic(filepath.Join(g.dir, "secret"), g.secret[:], 0o600); err != nil {
		return err
	}
	b, _ := json.Marshal(groupMeta{Name: g.name, Incarnation: g.inc})
	return writeFileAtomic(filepath.Join(g.dir, "group.json"), b, 0o600)
}

// replicaEnv is the node as the replication loops see it: its pins, its
// fetcher, its disk and its host.
type replicaEnv struct {
	n *Node
}

func (e replicaEnv) PinsOf(ctx context.Context, c cid.Cid) ([]blockstore.Pin, error) {
	return e.n.store.PinsOf(ctx, c)
}
func (e replicaEnv) Pins(ctx context.Context) ([]blockstore.Pin, error) { return e.n.store.Pins(ctx) }
func (e replicaEnv) AddPin(ctx context.Context, p blockstore.Pin) error {
	return e.n.store.AddPin(ctx, p)
}
func (e replicaEnv) RemovePin(ctx context.Context, c cid.Cid, o blockstore.Owner) error {
	return e.n.store.RemovePin(ctx, c, o)
}
func (e replicaEnv) PinLock() (unlock func()) { return e.n.gcl.PinLock() }

func (e replicaEnv) Fetch(ctx context.Context, root cid.Cid) error {
	_, err := e.n.ensureLocal(blockstore.BypassCache(ctx), root, nil) // a replica is kept, not read
	return err
}
func (e replicaEnv) StopProviding(ctx context.Context, c cid.Cid) error {
	return e.n.dht.StopProviding(ctx, c)
}

func (e replicaEnv) Free() (int64, error)     { return e.n.store.Free() }
func (e replicaEnv) CheckSpace(n int64) error { return e.n.store.CheckSpace(n) }
func (e replicaEnv) Budget() int64            { return e.n.groupBudget() }

func (e replicaEnv) Self() peer.ID { return e.n.host.ID() }
func (e replicaEnv) Connected(p peer.ID) bool {
	return e.n.host.Network().Connectedness(p) == network.Connected
}
func (e replicaEnv) Addrs() []string { return e.n.memberAddrs() }
func (e replicaEnv) Dial(ctx context.Context, addrs []string, timeout time.Duration) {
	e.n.dialAddrs(ctx, addrs, timeout)
}
