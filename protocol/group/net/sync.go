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
// length and a payload sealed with the group keys by its writer:
//
//	I -> R  hello           (R refuses a non-member here, before saying anything)
//	R -> I  hello
//	R -> I  snapshot        (State.Marshal, or empty: I has synced recently)
//	I -> R  snapshot        (empty if I just rebased)
//	I -> R  SyncMsg, R -> I SyncMsg, ... until one side sends an empty one.
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
		return c.write(snap)
	}
	recvSnap := func() error {
		b, err := c.read(group.MaxSnapshotSize)
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
			if err := c.write(b); err != nil {
				return err
			}
			if out.Empty() {
				return g.synced()
			}
			sending = false
			continue
		}
		b, err := c.read(group.MaxSyncMsgSize)
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
	return group.SyncHello{Self: group.Update{Member: &me}, Synced: g.state.Synced(), Digest: d[:]}, nil
}

// syncConn reads and writes sealed, length-prefixed frames.
type syncConn struct {
	g      *Group
	remote peer.ID
	r      *bufio.Reader
	w      io.Writer
	merged bool // the hello brought a newer member record
}

func (c *syncConn) write(plain []byte) error {
	sealed := c.g.keys.Seal(c.g.self, plain)
	buf := binary.AppendUvarint(make([]byte, 0, binary.MaxVarintLen64+len(sealed)), uint64(len(sealed)))
	if _, err := c.w.Write(append(buf, sealed...)); err != nil {
		return fmt.Errorf("write sync frame: %w", err)
	}
	return nil
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
	return c.g.keys.Open(c.remote, b)
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
