package client

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kith-p2p/kith/web/api"
)

// PublishName points this node's IPNS name to ref (pinned here); zero
// options are the daemon's defaults.
func (c *Client) PublishName(ctx context.Context, ref string, opts api.NameOptions) (api.NameRecord, error) {
	q := cidQuery(ref)
	if opts.Key != "" {
		q.Set("key", opts.Key)
	}
	for param, d := range map[string]time.Duration{"lifetime": opts.Lifetime, "ttl": opts.TTL} {
		if d > 0 {
			q.Set(param, d.String())
		}
	}
	var rec api.NameRecord
	return rec, c.postJSON(ctx, "/names/publish", q, &rec)
}

// OwnName returns the IPNS record of one of this node's keys ("": self).
func (c *Client) OwnName(ctx context.Context, key string) (api.NameRecord, error) {
	var rec api.NameRecord
	var q url.Values
	if key != "" {
		q = url.Values{"key": {key}}
	}
	return rec, c.getJSON(ctx, "/names/self", q, &rec)
}

// NameKeys lists this node's keys, self first, with their records.
func (c *Client) NameKeys(ctx context.Context) ([]api.NameKey, error) {
	var keys []api.NameKey
	return keys, c.getJSON(ctx, "/names/keys", nil, &keys)
}

// NewNameKey makes a key called key, for one more name.
func (c *Client) NewNameKey(ctx context.Context, key string) (api.NameKey, error) {
	var k api.NameKey
	return k, c.postJSON(ctx, "/names/keys/new", url.Values{"key": {key}}, &k)
}

// ImportNameKey stores a key file (libp2p's format or PEM PKCS #8) as the
// key called key (POST /names/keys/import).
func (c *Client) ImportNameKey(ctx context.Context, key string, data []byte) (api.NameKey, error) {
	resp, err := c.do(ctx, http.MethodPost, "/names/keys/import", url.Values{"key": {key}}, bytes.NewReader(data), "application/octet-stream")
	if err != nil {
		return api.NameKey{}, err
	}
	defer resp.Body.Close()
	var k api.NameKey
	return k, json.NewDecoder(resp.Body).Decode(&k)
}

// RemoveNameKey deletes the key called key and its record.
func (c *Client) RemoveNameKey(ctx context.Context, key string) error {
	return c.postJSON(ctx, "/names/keys/rm", url.Values{"key": {key}}, nil)
}

// ResolveName returns the /ipfs/ path an IPNS name or a DNSLink domain
// points to now.
func (c *Client) ResolveName(ctx context.Context, name string) (string, error) {
	var p api.NamePath
	return p.Path, c.getJSON(ctx, "/names/resolve", url.Values{"name": {name}}, &p)
}

// RenameNameKey calls the key key to instead (POST /names/keys/rename).
func (c *Client) RenameNameKey(ctx context.Context, key, to string) (api.NameKey, error) {
	var k api.NameKey
	return k, c.postJSON(ctx, "/names/keys/rename", url.Values{"key": {key}, "to": {to}}, &k)
}

// NameURL is where a browser on this computer opens what an IPNS name
// leads to: the name's own origin on the daemon's subdomain gateway,
// http://NAME.ipns.localhost:PORT/ (browsers resolve *.localhost here).
func (c *Client) NameURL(name string) string {
	port := c.base[strings.LastIndex(c.base, ":"):]
	return "http://" + name + ".ipns.localhost" + port + "/"
}
