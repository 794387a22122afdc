package node

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/web/api"
)

// keptOffline explains a fetch of content a group of ours keeps when no
// member that holds a copy is connected: who keeps it, and since when
// each was not heard from, which says more than "no peers" (the DHT does
// not list a group's copies: they are private). roots are the content and
// the roots it may be part of, the first a group shares counting. ok is
// false when no group shares them, or a holder is connected (the fetch
// then failed for another reason).
func (n *Node) keptOffline(ctx context.Context, roots []cid.Cid) (missReason, bool) {
	for i, root := range roots {
		if !root.Defined() || slices.Contains(roots[:i], root) {
			continue
		}
		sts, err := n.GroupStatus(ctx, root)
		if err != nil {
			continue
		}
		for _, st := range sts {
			var holders []string
			members, _ := n.GroupMembers(ctx, st.Group) // for when each was last seen
			for _, h := range st.Holders {
				// held, surplus and gone (silent past the grace period)
				// members hold a copy; a checking one was heard to.
				if h.Self || h.State == "fetching" {
					continue
				}
				id, err := peer.Decode(h.Peer)
				if err != nil {
					continue
				}
				if n.host.Network().Connectedness(id) == network.Connected {
					return missReason{}, false
				}
				holders = append(holders, holderText(members, h.Peer, h.Name))
			}
			if len(holders) == 0 {
				continue
			}
			name := st.Name
			if name == "" {
				name = "this content"
			}
			which := "one of them is"
			if len(holders) == 1 {
				which = "that device is"
			}
			return missReason{
				text: fmt.Sprintf("%s keeps %s on %s, not connected now.", st.Group, name, strings.Join(holders, " and ")),
				fix:  fmt.Sprintf("It comes once %s online: run the same command again then (`kith group members %s` says who is).", which, st.Group),
			}, true
		}
	}
	return missReason{}, false
}

// holderText names member id (called name) and when it was last heard
// from, as members say.
func holderText(members []api.GroupMember, id, name string) string {
	if name == "" {
		name = id
	}
	for _, m := range members {
		if m.Peer == id && !m.LastSeen.IsZero() {
			return fmt.Sprintf("%s (last seen %s)", name, m.LastSeen.Local().Format(time.DateTime))
		}
	}
	return name
}
