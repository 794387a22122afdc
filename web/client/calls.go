package client

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/kith-p2p/kith/web/api"
)

func cidQuery(c string) url.Values { return url.Values{"cid": {c}} }

// ID describes the daemon.
func (c *Client) ID(ctx context.Context) (api.ID, error) {
	var id api.ID
	return id, c.getJSON(ctx, "/id", nil, &id)
}

// Get writes the file or folder cid to out (an absolute path the daemon
// can write), leaving out of a folder the entries exclude names (patterns
// of names, as kith add --exclude takes).
func (c *Client) Get(ctx context.Context, cid, out string, progress func(api.Event), exclude ...string) (api.GetResult, error) {
	var res api.GetResult
	q := cidQuery(cid)
	q.Set("out", out)
	for _, x := range exclude {
		q.Add("exclude", x)
	}
	return res, c.stream(ctx, http.MethodPost, "/get", q, nil, "", progress, &res)
}

// Cat streams length bytes (all when length < 0) of file cid from offset.
// The caller closes the reader.
func (c *Client) Cat(ctx context.Context, cid string, offset, length int64) (io.ReadCloser, error) {
	q := cidQuery(cid)
	if offset > 0 {
		q.Set("offset", strconv.FormatInt(offset, 10))
	}
	if length >= 0 {
		q.Set("length", strconv.FormatInt(length, 10))
	}
	resp, err := c.do(ctx, http.MethodGet, "/cat", q, nil, "")
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// Ls lists a folder.
func (c *Client) Ls(ctx context.Context, cid string) ([]api.Entry, error) {
	var es []api.Entry
	return es, c.getJSON(ctx, "/ls", cidQuery(cid), &es)
}

// Stat describes a file or folder.
func (c *Client) Stat(ctx context.Context, cid string) (api.Entry, error) {
	var e api.Entry
	return e, c.getJSON(ctx, "/stat", cidQuery(cid), &e)
}

// StatFromPeers is Stat of content this node may not hold: described from
// its root block, fetched from peers if need be (a folder's size is then
// the size of its blocks).
func (c *Client) StatFromPeers(ctx context.Context, cid string) (api.Entry, error) {
	q := cidQuery(cid)
	q.Set("peers", "true")
	var e api.Entry
	return e, c.getJSON(ctx, "/stat", q, &e)
}

// PinAdd pins cid under name.
func (c *Client) PinAdd(ctx context.Context, cid string, opts api.PinOptions, progress func(api.Event)) (api.Pin, error) {
	var p api.Pin
	q := cidQuery(cid)
	if opts.Name != "" {
		q.Set("name", opts.Name)
	}
	if opts.Private != nil {
		q.Set("private", strconv.FormatBool(*opts.Private))
	}
	return p, c.stream(ctx, http.MethodPost, "/pin/add", q, nil, "", progress, &p)
}

// PinRm removes the pin on cid.
func (c *Client) PinRm(ctx context.Context, cid string) error {
	return c.postJSON(ctx, "/pin/rm", cidQuery(cid), nil)
}

// Pins lists every pin.
func (c *Client) Pins(ctx context.Context) ([]api.Pin, error) {
	var ps []api.Pin
	return ps, c.getJSON(ctx, "/pin/ls", nil, &ps)
}

// GC collects garbage.
func (c *Client) GC(ctx context.Context, progress func(api.Event)) (api.GCResult, error) {
	var r api.GCResult
	return r, c.stream(ctx, http.MethodPost, "/gc", nil, nil, "", progress, &r)
}

// RepoStat describes the repo.
func (c *Client) RepoStat(ctx context.Context) (api.RepoStat, error) {
	var r api.RepoStat
	return r, c.getJSON(ctx, "/repo/stat", nil, &r)
}

// ApplyConfig has the daemon take key's value from config.json now, when
// it can without a restart.
func (c *Client) ApplyConfig(ctx context.Context, key string) (api.ConfigApplied, error) {
	var r api.ConfigApplied
	return r, c.postJSON(ctx, "/config/apply", url.Values{"key": {key}}, &r)
}

// Settings lists the settings keys names (all when none), as config.json
// holds them.
func (c *Client) Settings(ctx context.Context, keys ...string) ([]api.Setting, error) {
	var r []api.Setting
	return r, c.getJSON(ctx, "/config", url.Values{"key": keys}, &r)
}

// SetSetting sets key to value in config.json, through the daemon, which
// takes it at once when it can.
func (c *Client) SetSetting(ctx context.Context, key, value string) (api.Setting, error) {
	var r api.Setting
	return r, c.postJSON(ctx, "/config/set", url.Values{"key": {key}, "value": {value}}, &r)
}

// Verify re-hashes every block.
func (c *Client) Verify(ctx context.Context, progress func(api.Event)) (api.VerifyResult, error) {
	var r api.VerifyResult
	return r, c.stream(ctx, http.MethodPost, "/repo/verify", nil, nil, "", progress, &r)
}

// Export writes a CAR of cid to w.
func (c *Client) Export(ctx context.Context, cid string, w io.Writer) (int64, error) {
	resp, err := c.do(ctx, http.MethodGet, "/export", cidQuery(cid), nil, "")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return io.Copy(w, resp.Body)
}

// Import stores a CAR stream and pins its roots.
func (c *Client) Import(ctx context.Context, r io.Reader, opts api.ImportOptions, progress func(api.Event)) (api.ImportResult, error) {
	var res api.ImportResult
	q := url.Values{}
	if opts.AllowPartial {
		q.Set("allow_partial", "true")
	}
	if opts.Name != "" {
		q.Set("name", opts.Name)
	}
	return res, c.stream(ctx, http.MethodPost, "/import", q, r, "application/vnd.ipld.car", progress, &res)
}

// Shutdown asks the daemon to stop.
func (c *Client) Shutdown(ctx context.Context) error {
	return c.postJSON(ctx, "/shutdown", nil, nil)
}

// Peers lists connected peers.
func (c *Client) Peers(ctx context.Context) ([]api.Peer, error) {
	var ps []api.Peer
	return ps, c.getJSON(ctx, "/peers", nil, &ps)
}

// Uploads lists what peers are downloading from the daemon.
func (c *Client) Uploads(ctx context.Context) ([]api.Upload, error) {
	var us []api.Upload
	return us, c.getJSON(ctx, "/uploads", nil, &us)
}

// Ticket asks for a share ticket for cid.
func (c *Client) Ticket(ctx context.Context, cid string) (api.TicketInfo, error) {
	var t api.TicketInfo
	return t, c.getJSON(ctx, "/ticket", cidQuery(cid), &t)
}

// Doctor asks how the node stands on the network.
func (c *Client) Doctor(ctx context.Context) (api.Doctor, error) {
	var d api.Doctor
	return d, c.getJSON(ctx, "/doctor", nil, &d)
}

// Connect dials a peer by multiaddr (ending in /p2p/ID).
func (c *Client) Connect(ctx context.Context, addr string) (api.PeerInfo, error) {
	var p api.PeerInfo
	return p, c.postJSON(ctx, "/connect", url.Values{"addr": {addr}}, &p)
}

// FindProviders asks the DHT who provides cid.
func (c *Client) FindProviders(ctx context.Context, cid string, max int) ([]api.PeerInfo, error) {
	var ps []api.PeerInfo
	q := cidQuery(cid)
	q.Set("max", strconv.Itoa(max))
	return ps, c.getJSON(ctx, "/dht/findprovs", q, &ps)
}

// FindPeer asks the DHT for a peer's addresses.
func (c *Client) FindPeer(ctx context.Context, id string) (api.PeerInfo, error) {
	var p api.PeerInfo
	return p, c.getJSON(ctx, "/dht/findpeer", url.Values{"id": {id}}, &p)
}
