package node

import (
	"context"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/protocol/group"
	"github.com/kith-p2p/kith/web/api"
)

// The node reports what peers download from it.
var _ api.Uploads = (*Node)(nil)

// Uploads lists the uploads of the last minute, the fastest first, with
// the peer's name (from the groups shared with it) and the content's (its
// pin's name here).
func (n *Node) Uploads(ctx context.Context) ([]api.Upload, error) {
	snaps := n.uploads.list()
	out := make([]api.Upload, 0, len(snaps))
	if len(snaps) == 0 {
		return out, nil
	}
	peerNames := n.memberNames()
	contentNames := map[cid.Cid]string{}
	for _, s := range snaps {
		u := api.Upload{
			Peer: s.peer.String(), PeerName: peerNames[s.peer], Protocols: s.protos.names(),
			Bytes: s.bytes, Blocks: s.blocks, Rate: s.rate, Since: s.since.UTC(), Last: s.last.UTC(),
			Finished: s.finished,
		}
		if av, err := n.host.Peerstore().Get(s.peer, "AgentVersion"); err == nil {
			u.Agent, _ = av.(string)
		}
		if s.root.Defined() {
			u.Cid = s.root.String()
			name, ok := contentNames[s.root]
			if !ok {
				name = n.pinLabel(ctx, s.root)
				contentNames[s.root] = name
			}
			u.Name = name
		}
		out = append(out, u)
	}
	return out, nil
}

// isPinnedRoot reports whether c is the root of a pin here (the upload
// tracker's start of a root's trail).
func (n *Node) isPinnedRoot(c cid.Cid) bool {
	ps, err := n.store.PinsOf(n.ctx, c)
	return err == nil && len(ps) > 0
}

// memberNames maps the members of our groups to the names they go by.
func (n *Node) memberNames() map[peer.ID]string {
	names := map[peer.ID]string{}
	gs := n.groupsReady.Load()
	if gs == nil {
		return names
	}
	for _, g := range gs.list() {
		g.net.Read(func(s *group.State, _ *group.Liveness) {
			for _, m := range s.Members() {
				if m.Name != "" && names[m.ID] == "" {
					names[m.ID] = m.Name
				}
			}
		})
	}
	return names
}
