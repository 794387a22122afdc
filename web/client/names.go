package client

import (
	"context"
	"net/url"
	"time"

	"github.com/kith-p2p/kith/web/api"
)

// PublishName points this node's IPNS name to ref (pinned here); zero
// options are the daemon's defaults.
func (c *Client) PublishName(ctx context.Context, ref string, opts api.NameOptions) (api.NameRecord, error) {
	q := cidQuery(ref)
	for param, d := range map[string]time.Duration{"lifetime": opts.Lifetime, "ttl": opts.TTL} {
		if d > 0 {
			q.Set(param, d.String())
		}
	}
	var rec api.NameRecord
	return rec, c.postJSON(ctx, "/names/publish", q, &rec)
}

// OwnName returns this node's IPNS record.
func (c *Client) OwnName(ctx context.Context) (api.NameRecord, error) {
	var rec api.NameRecord
	return rec, c.getJSON(ctx, "/names/self", nil, &rec)
}

// ResolveName returns the /ipfs/ path an IPNS name or a DNSLink domain
// points to now.
func (c *Client) ResolveName(ctx context.Context, name string) (string, error) {
	var p api.NamePath
	return p.Path, c.getJSON(ctx, "/names/resolve", url.Values{"name": {name}}, &p)
}
