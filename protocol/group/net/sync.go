package groupnet

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/kith-p2p/kith/protocol/group"
)

// SyncProtocol is the anti-entropy stream between two members of a group.
//
// The initiator first writes the group ID (16 bytes, in clear: the
// responder must know which keys to use). Every later frame is a uvarint
// length and a payload sealed by its writer:
//
//	I -> R  hello           (R refuses a non-member here, before saying anything)
//	R -> I  hello
//	I -> R  key grants      (both hellos of version 2 only; see below)
//	R -> I  key grants
//	R -> I  snapshot        (State.Marshal, or empty: I has synced recently)
//	I -> R  snapshot        (empty if I just rebased)
//	I -> R  SyncMsg, R -> I SyncMsg, ... until one side sends an empty one.
//
// Hellos and key grants are sealed with the keys of epoch 0 (the secret's:
// every member, however far behind, can open them); the grants are the
// epoch keys the other side's hello did not list, each with its signed
// epoch entry, and only those its state lets the other side hold
// (group.State.MayHold): a removed member is refused at its hello, and
// never handed the key of an epoch that shuts it out. The frames that
// carry the group's content (snapshot, SyncMsgs) are sealed with the keys
// of the epoch the writer talks in, named in front of the sealed bytes
// (uvarint epoch number, and its 32-byte commitment if not 0). With a
// peer whose hello is older (version 0) nothing changes in the frames, and
// a group past epoch 0 does not sync with it at all.
const SyncProtocol protocol.ID = "/kith/sync/1.0.0"

// syncTimeout bounds a whole exchange; a member too slow for it syncs again
// later.
const syncTimeout = 30 * time.Second

// maxSyncRounds stops a peer that never ends a reconciliation.
const maxSyncRounds = 10000

// ErrRefused: the peer closed the stream without finishing (it does not know
// the group, or we are not a member in its view).
var ErrRefused = errors.New("sync refused")

// Sync runs one sync with member p over a new stream.
func (g *Group) Sync(ctx context.Context, p peer.ID) error {
	s, err := g.svc.host.NewStream(network.WithAllowLimitedConn(ctx, "group-sync"), p, SyncProtocol)
	if err != nil {
		return fmt.Errorf("sync group %s with %s: open stream: %w", g.id, p, err)
	}
	_ = s.SetDeadline(time.Now().Add(syncTimeout))
	stop := context.AfterFunc(ctx, func() { _ = s.Reset() })
	defer stop()
	if _, err = s.Write(g.id[:]); err == nil {
		err = g.runSync(s, p, true) // not a new err: its failure must reach the caller
	}
	if err != nil {
		_ = s.Reset()
		return fmt.Errorf("sync group %s with %s: %w", g.id, p, err)
	}
	// The exchange is complete. Close may still fail: over QUIC, when the
	// peer wrote the last message and closed first, our side's writing was
	// already stopped ("close called for canceled stream"), which a test
	// saw fail every sync after a restart.
	_ = s.Close()
	return nil
}

// handleSync serves a sync stream for the group it names, if we are in it.
func (s *Service) handleSync(st network.Stream) {
	_ = st.SetDeadline(time.Now().Add(syncTimeout))
	var id group.GroupID
	if _, err := io.ReadFull(st, id[:]); err != nil {
		_ = st.Reset()
		return
	}
	g := s.lookup(id)
	if g == nil {
		_ = st.Reset()
		return
	}
	if err := g.runSync(st, st.Conn().RemotePeer(), false); err != nil {
		s.log.Debug("group sync refused or failed", "group", id, "peer", st.Conn().RemotePeer(), "err", err)
		if errors.Is(err, group.ErrRemoved) {
			_ = st.Close() // a reset could drop the removal notice just written
			return
		}
		_ = st.Reset()
		return
	}
	_ = st.Close()
}

// runSync runs our side of an exchange with remote over rw; see SyncProtocol.
func (g *Group) runSync(rw io.ReadWriter, remote peer.ID, initiator bool) error {
	c := &syncConn{g: g, remote: remote, r: bufio.NewReader(rw), w: rw}
	changed := false
	defer func() {
		if changed {
			g.onChange()
		}
	}()
	mine, err := g.hello()
	if err != nil {
		return err
	}
	var theirs group.SyncHello
	if initiator {
		if err := c.writeJSON(mine); err != nil {
			return err
		}
		if err := c.readHello(&theirs); err != nil {
			changed = c.merged // a removal notice
			return err
		}
	} else {
		if err := c.readHello(&theirs); err != nil {
			if errors.Is(err, group.ErrRemoved) {
				// Tell the removed member, which cannot hear our gossip.
				g.mu.Lock()
				notice, ok := g.state.RemovalNotice(remote)
				g.mu.Unlock()
				if ok {
					_ = c.writeJSON(notice)
				}
			}
			return err
		}
		if err := c.writeJSON(mine); err != nil {
			return err
		}
	}
	changed = c.merged
	c.v2 = theirs.Ver >= group.SyncHelloVer
	if c.v2 {
		keys, err := c.exchangeKeys(theirs.Keys, initiator)
		changed = changed || keys
		if err != nil {
			return err
		}
	} else if g.pastEpoch0() {
		return fmt.Errorf("sync with %s: its kith is too old for a group that changed keys after a removal (upgrade it): %w", remote, group.ErrInvalid)
	}
	equal := bytes.Equal(mine.Digest, theirs.Digest)

	// Snapshots: R offers first; I offers only if it did not just rebase.
	rebased := false
	sendSnap := func() error {
		var snap []byte
		g.mu.Lock()
		need := !rebased && g.state.NeedsSnapshot(theirs.Synced)
		if need {
			snap, err = g.state.Marshal()
		}
		g.mu.Unlock()
		if err != nil {
			return fmt.Errorf("snapshot: %w", err)
		}
		if need {
			equal = false
		}
		return c.writeContent(snap)
	}
	recvSnap := func() error {
		b, err := c.readContent(group.MaxSnapshotSize)
		if err != nil || len(b) == 0 {
			return err
		}
		snap, err := group.Unmarshal(b)
		if err != nil {
			return fmt.Errorf("snapshot from %s: %w", remote, err)
		}
		g.mu.Lock()
		g.state.Rebase(snap, time.Now())
		g.mu.Unlock()
		rebased, changed, equal = true, true, false
		return nil
	}
	if initiator {
		if err := recvSnap(); err != nil {
			return err
		}
		if err := sendSnap(); err != nil {
			return err
		}
	} else {
		if err := sendSnap(); err != nil {
			return err
		}
		if err := recvSnap(); err != nil {
			return err
		}
	}

	// Reconcile: alternate SyncStep answers until one side has nothing to say.
	var out group.SyncMsg
	sending := initiator
	if initiator && !equal {
		g.mu.Lock()
		out = g.state.SyncOpen()
		g.mu.Unlock()
	}
	for range maxSyncRounds {
		if sending {
			b, err := group.EncodeSyncMsg(out)
			if err != nil {
				return err
			}
			if err := c.writeContent(b); err != nil {
				return err
			}
			if out.Empty() {
				return g.synced()
			}
			sending = false
			continue
		}
		b, err := c.readContent(group.MaxSyncMsgSize)
		if err != nil {
			return err
		}
		m, err := group.DecodeSyncMsg(b)
		if err != nil {
			return fmt.Errorf("sync message from %s: %w", remote, err)
		}
		if m.Empty() {
			return g.synced()
		}
		g.mu.Lock()
		var merged int
		out, merged, err = g.state.SyncStep(m, time.Now())
		g.mu.Unlock()
		if err != nil {
			return fmt.Errorf("sync step with %s: %w", remote, err)
		}
		changed = changed || merged > 0
		sending = true
	}
	return fmt.Errorf("sync with %s: no end after %d rounds: %w", remote, maxSyncRounds, group.ErrInvalid)
}

func (g *Group) synced() error {
	g.mu.Lock()
	g.state.MarkSynced(time.Now())
	g.mu.Unlock()
	return nil
}

// hello is our opening: our own member record, when we last synced, our digest.
func (g *Group) hello() (group.SyncHello, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	me, ok := g.state.Member(g.self)
	if !ok || me.Left {
		return group.SyncHello{}, fmt.Errorf("sync group %s: we are not a member: %w", g.id, group.ErrNotMember)
	}
	d := g.state.Digest()
	return group.SyncHello{
		Self: group.Update{Member: &me}, Synced: g.state.Synced(), Digest: d[:],
		Ver: group.SyncHelloVer, Keys: g.ring.Refs(),
	}, nil
}

// pastEpoch0 reports whether the group has changed keys since its start.
func (g *Group) pastEpoch0() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	_, ok := g.state.Epoch()
	return ok || len(g.ring.Refs()) > 0
}

// syncConn reads and writes sealed, length-prefixed frames.
type syncConn struct {
	g      *Group
	remote peer.ID
	r      *bufio.Reader
	w      io.Writer
	merged bool // the hello brought a newer member record
	v2     bool // the peer knows key epochs: content frames name theirs
}

// write writes a frame sealed with epoch 0's keys (hellos, key grants).
func (c *syncConn) write(plain []byte) error {
	return c.writeFrame(nil, c.g.keys.Seal(c.g.self, plain))
}

// writeContent writes a frame of the group's content, sealed with the keys
// of the epoch we talk in (see SyncProtocol).
func (c *syncConn) writeContent(plain []byte) error {
	if !c.v2 {
		return c.write(plain)
	}
	c.g.mu.Lock()
	ref, keys := c.g.useLocked()
	c.g.mu.Unlock()
	return c.writeFrame(appendEpochRef(nil, ref), keys.Seal(c.g.self, plain))
}

func (c *syncConn) writeFrame(prefix, sealed []byte) error {
	n := len(prefix) + len(sealed)
	buf := binary.AppendUvarint(make([]byte, 0, binary.MaxVarintLen64+n), uint64(n))
	buf = append(append(buf, prefix...), sealed...)
	if _, err := c.w.Write(buf); err != nil {
		return fmt.Errorf("write sync frame: %w", err)
	}
	return nil
}

// maxEpochRefLen is the most bytes an epoch's name takes in front of a
// content frame.
const maxEpochRefLen = binary.MaxVarintLen64 + 32

func appendEpochRef(b []byte, r group.EpochRef) []byte {
	b = binary.AppendUvarint(b, r.N)
	if r.N == 0 {
		return b
	}
	return append(b, r.Commit[:]...)
}

func readEpochRef(b []byte) (group.EpochRef, []byte, error) {
	n, l := binary.Uvarint(b)
	if l <= 0 {
		return group.EpochRef{}, nil, fmt.Errorf("sync frame: bad epoch: %w", group.ErrInvalid)
	}
	r, b := group.EpochRef{N: n}, b[l:]
	if n == 0 {
		return r, b, nil
	}
	if len(b) < 32 {
		return group.EpochRef{}, nil, fmt.Errorf("sync frame: bad epoch: %w", group.ErrInvalid)
	}
	copy(r.Commit[:], b)
	return r, b[32:], nil
}

// readContent reads a content frame (see writeContent).
func (c *syncConn) readContent(max int) ([]byte, error) {
	if !c.v2 {
		return c.read(max)
	}
	b, err := c.readFrame(max + maxEpochRefLen)
	if err != nil {
		return nil, err
	}
	ref, sealed, err := readEpochRef(b)
	if err != nil {
		return nil, err
	}
	c.g.mu.Lock()
	keys := c.g.keysForLocked(ref)
	c.g.mu.Unlock()
	if keys == nil {
		return nil, fmt.Errorf("sync frame from %s sealed with the key of epoch %s, which we lack: %w", c.remote, ref, group.ErrAuth)
	}
	return keys.Open(c.remote, sealed)
}

// maxGrants bounds the key grants of one frame.
const maxGrants = 1024

// exchangeKeys hands the peer the epoch keys it lacks and may hold, and
// takes those it hands us (see SyncProtocol); have is what its hello
// listed. It reports whether our keys or state changed.
func (c *syncConn) exchangeKeys(have []group.EpochRef, initiator bool) (changed bool, err error) {
	g := c.g
	send := func() error {
		g.mu.Lock()
		grants := g.ring.Grants(have, func(r group.EpochRef) bool { return g.state.MayHold(c.remote, r) })
		g.mu.Unlock()
		if grants == nil {
			grants = []group.KeyGrant{}
		}
		return c.writeJSON(grants)
	}
	recv := func() error {
		b, err := c.read(group.MaxSyncMsgSize)
		if err != nil {
			return err
		}
		var grants []group.KeyGrant
		if err := json.Unmarshal(b, &grants); err != nil {
			return fmt.Errorf("key grants from %s: %v: %w", c.remote, err, group.ErrInvalid)
		}
		if len(grants) > maxGrants {
			return fmt.Errorf("key grants from %s: %d: %w", c.remote, len(grants), group.ErrTooLarge)
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		for _, gr := range grants {
			added, err := g.ring.Add(gr)
			if err != nil {
				return fmt.Errorf("key from %s: %w", c.remote, err)
			}
			merged, err := g.state.ApplyUpdate(gr.Epoch)
			if err != nil {
				return fmt.Errorf("key from %s: %w", c.remote, err)
			}
			changed = changed || added || merged
			have = append(have, gr.Epoch.Epoch.Ref())
		}
		return nil
	}
	if initiator {
		if err := send(); err != nil {
			return changed, err
		}
		return changed, recv()
	}
	if err := recv(); err != nil {
		return changed, err
	}
	return changed, send()
}

func (c *syncConn) writeJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode sync frame: %w", err)
	}
	return c.write(b)
}

// read reads one frame of at most max plain bytes: the length is checked
// before anything is read, and the buffer grows with the bytes that arrive
// rather than to the length the peer declares (a snapshot frame may declare
// 64 MiB and send nothing).
func (c *syncConn) read(max int) ([]byte, error) {
	b, err := c.readFrame(max)
	if err != nil {
		return nil, err
	}
	return c.g.keys.Open(c.remote, b)
}

// readFrame reads one frame's bytes, of at most max plain bytes once
// opened.
func (c *syncConn) readFrame(max int) ([]byte, error) {
	n, err := binary.ReadUvarint(c.r)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, ErrRefused
		}
		return nil, fmt.Errorf("read sync frame: %w", err)
	}
	if n > uint64(max+group.Overhead) {
		return nil, fmt.Errorf("sync frame of %d bytes from %s: %w", n, c.remote, group.ErrTooLarge)
	}
	b, err := io.ReadAll(io.LimitReader(c.r, int64(n)))
	if err != nil {
		return nil, fmt.Errorf("read sync frame: %w", err)
	}
	if uint64(len(b)) != n {
		return nil, fmt.Errorf("read sync frame: %w", io.ErrUnexpectedEOF)
	}
	return b, nil
}

// readHello reads the peer's hello and checks that it is a member.
func (c *syncConn) readHello(h *group.SyncHello) error {
	b, err := c.read(group.MaxSyncMsgSize)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, h); err != nil {
		return fmt.Errorf("sync hello from %s: %v: %w", c.remote, err, group.ErrInvalid)
	}
	c.g.mu.Lock()
	defer c.g.mu.Unlock()
	before := c.g.state.Digest()
	if h.Removed != nil {
		// The peer says we were removed (see group.SyncHello).
		changed, err := c.g.state.CheckRemovalNotice(c.g.self, *h)
		if err != nil {
			return fmt.Errorf("removal notice from %s: %w", c.remote, err)
		}
		c.merged = changed
		return fmt.Errorf("sync with %s: %w", c.remote, group.ErrRemoved)
	}
	if err := c.g.state.CheckHello(c.remote, *h, time.Now()); err != nil {
		return err
	}
	c.merged = c.g.state.Digest() != before
	return nil
}
