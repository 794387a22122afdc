package node

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/kith-p2p/kith/protocol/group"
	"github.com/kith-p2p/kith/web/api"
)

// deviceNameFile holds the name this device goes by in groups, chosen
// with `kith group rename-me`; without it, the hostname.
const deviceNameFile = "device-name"

// deviceName is the name this device joins groups under.
func (n *Node) deviceName() string {
	if b, err := os.ReadFile(filepath.Join(n.repo.dir, groupsDir, deviceNameFile)); err == nil {
		if name := strings.TrimSpace(string(b)); name != "" {
			return name
		}
	}
	name, _ := os.Hostname()
	if name == "" {
		name = n.host.ID().String()
	}
	if len(name) > group.MaxNameLen {
		name = name[:group.MaxNameLen]
	}
	return name
}

// GroupRenameMe sets the name this device goes by: in the one group named,
// or (group "") in every group we are in and in those we join later.
func (n *Node) GroupRenameMe(ctx context.Context, name, groupName string) (api.DeviceName, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > group.MaxNameLen || strings.ContainsAny(name, "\n\r\t") {
		return api.DeviceName{}, fmt.Errorf("a device name must be 1 to %d bytes on one line: %w", group.MaxNameLen, api.ErrInvalid)
	}
	gs, err := n.groupSet()
	if err != nil {
		return api.DeviceName{}, err
	}
	var targets []*localGroup
	if groupName != "" {
		g, err := gs.find(groupName)
		if err != nil {
			return api.DeviceName{}, err
		}
		targets = []*localGroup{g}
	} else {
		dir := filepath.Join(n.repo.dir, groupsDir)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return api.DeviceName{}, fmt.Errorf("save device name: %w", err)
		}
		if err := writeFileAtomic(filepath.Join(dir, deviceNameFile), []byte(name+"\n"), 0o600); err != nil {
			return api.DeviceName{}, fmt.Errorf("save device name: %w", err)
		}
		targets = gs.list()
	}
	out := api.DeviceName{Name: name, Groups: []string{}}
	var errs []error
	for _, g := range targets {
		err := g.net.Apply(ctx, func(s *group.State, c *group.Clock) (group.Update, error) {
			m, ok := s.Member(c.Node())
			if !ok || m.Left {
				return group.Update{}, fmt.Errorf("not a member of %s: %w", g.name, group.ErrNotMember)
			}
			return s.Join(c, name, n.memberAddrs(), m.Budget)
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("rename in group %s: %w", g.name, err))
			continue
		}
		g.changed()
		out.Groups = append(out.Groups, g.name)
	}
	return out, errors.Join(errs...)
}
