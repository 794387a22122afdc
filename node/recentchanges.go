package node

import (
	"slices"

	"github.com/kith-p2p/kith/node/recent"
	"github.com/kith-p2p/kith/protocol/group"
	"github.com/kith-p2p/kith/web/api"
)

// apiChanges is a folder's recent changes as the API shows them: the
// changes updates wrote in (in), and those this device's shares sent out
// (out), newest first, at most recent.Max; each names the device that
// shared its version, as the group groupID calls it.
func (n *Node) apiChanges(groupID string, in, out []recent.Change) []api.FolderChange {
	if len(in)+len(out) == 0 {
		return nil
	}
	self := n.host.ID()
	names := map[string]string{} // peer ID -> name
	if g, err := n.findGroup(groupID); err == nil {
		g.net.Read(func(s *group.State, _ *group.Liveness) {
			for _, m := range s.Members() {
				names[m.ID.String()] = m.Name
			}
		})
	}
	all := make([]api.FolderChange, 0, len(in)+len(out))
	for _, ch := range in {
		all = append(all, api.FolderChange{Path: ch.Path, What: ch.What, Version: ch.Version, At: ch.At,
			By: names[ch.By], ByID: ch.By, Here: ch.By != "" && ch.By == self.String()})
	}
	for _, ch := range out {
		all = append(all, api.FolderChange{Path: ch.Path, What: ch.What, Version: ch.Version, At: ch.At,
			By: names[self.String()], ByID: self.String(), Here: true})
	}
	// Each list is newest first already; merged, an update's changes stay
	// in the order it made them.
	slices.SortStableFunc(all, func(a, b api.FolderChange) int { return b.At.Compare(a.At) })
	return all[:min(len(all), recent.Max)]
}
