package node

import (
	"context"
	"fmt"

	"github.com/kith-p2p/kith/protocol/fetch"
	"github.com/kith-p2p/kith/web/api"
)

// liveSettings are the settings a running daemon takes from config.json
// when asked (`kith config set` asks), with no restart: the caps on what
// it sends and receives, as in a BitTorrent client or Syncthing, the
// downloads' cache bound, and the space offered to groups (each group
// hears it with this device's next heartbeat, which comes early). Every
// other setting applies at the next start.
var liveSettings = map[string]func(n *Node, c Config){
	"groups.budget_percent": func(n *Node, c Config) { n.offer(c.Groups) },
	"groups.budget_max":     func(n *Node, c Config) { n.offer(c.Groups) },
	"fetch.upload_limit":    func(n *Node, c Config) { fetch.SetUploadLimit(n.upload, c.Fetch.UploadLimit) },
	"fetch.download_limit":  func(n *Node, c Config) { fetch.SetDownloadLimit(n.download, c.Fetch.DownloadLimit) },
	"fetch.cache_max": func(n *Node, c Config) {
		n.cacheMax.Store(c.Fetch.CacheMax)
		n.background(func(ctx context.Context) { n.trimCache(ctx, nil) }) // a lower bound applies at once
	},
}

// offer has the daemon offer its groups the space g says, from each
// group's next heartbeat, which comes early.
func (n *Node) offer(g GroupsConfig) {
	n.budget.Store(&g)
	if n.groups == nil {
		return
	}
	for _, lg := range n.groups.list() {
		if lg.rep != nil {
			lg.rep.OfferChanged()
		}
	}
}

// ApplyConfig takes key's value from the repo's config.json now, when the
// setting can change while the daemon runs (liveSettings); for the others
// it reports that the value applies at the next start.
func (n *Node) ApplyConfig(ctx context.Context, key string) (api.ConfigApplied, error) {
	if _, err := findField(key); err != nil {
		return api.ConfigApplied{}, err
	}
	apply, live := liveSettings[key]
	if !live {
		return api.ConfigApplied{Key: key}, nil
	}
	c, err := ReadConfig(n.repo.dir)
	if err != nil {
		return api.ConfigApplied{}, fmt.Errorf("%w: %w", err, api.ErrInvalid)
	}
	if err := c.Validate(); err != nil {
		return api.ConfigApplied{}, fmt.Errorf("%w: %w", err, api.ErrInvalid)
	}
	apply(n, c)
	if v, err := c.Lookup(key); err == nil {
		n.log.Info("setting applied", "key", key, "value", v.Text())
	}
	return api.ConfigApplied{Key: key, Applied: true}, nil
}
