package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kith-p2p/kith/web/api"
)

func groupQuery(group string) url.Values { return url.Values{"group": {group}} }

// GroupCreate makes a new group and returns its invite token.
func (c *Client) GroupCreate(ctx context.Context, name string) (api.GroupInvite, error) {
	var inv api.GroupInvite
	return inv, c.postJSON(ctx, "/groups/create", groupQuery(name), &inv)
}

// GroupJoin joins the group of an invite token. The token goes in the
// request body, never in the URL.
func (c *Client) GroupJoin(ctx context.Context, token string) (api.Group, error) {
	var g api.Group
	resp, err := c.do(ctx, http.MethodPost, "/groups/join", nil, strings.NewReader(token), "text/plain")
	if err != nil {
		return g, err
	}
	defer resp.Body.Close()
	return g, json.NewDecoder(resp.Body).Decode(&g)
}

// GroupLeave leaves a group.
func (c *Client) GroupLeave(ctx context.Context, group string) error {
	return c.postJSON(ctx, "/groups/leave", groupQuery(group), nil)
}

// Groups lists our groups.
func (c *Client) Groups(ctx context.Context) ([]api.Group, error) {
	var gs []api.Group
	return gs, c.getJSON(ctx, "/groups/ls", nil, &gs)
}

// GroupMembers lists a group's members.
func (c *Client) GroupMembers(ctx context.Context, group string) ([]api.GroupMember, error) {
	var ms []api.GroupMember
	return ms, c.getJSON(ctx, "/groups/members", groupQuery(group), &ms)
}

// GroupShare asks group to keep opts.Copies copies of cid (and, with
// opts.Replace, to stop keeping its other shares of the same name).
func (c *Client) GroupShare(ctx context.Context, group, cid string, opts api.ShareOptions) (api.GroupIntent, error) {
	var in api.GroupIntent
	q := groupQuery(group)
	q.Set("cid", cid)
	q.Set("copies", strconv.Itoa(opts.Copies))
	if opts.Replace {
		q.Set("replace", "true")
	}
	if opts.Path != "" {
		q.Set("path", opts.Path)
	}
	if opts.Keep > 0 {
		q.Set("keep", strconv.Itoa(opts.Keep))
	}
	return in, c.postJSON(ctx, "/groups/share", q, &in)
}

// GroupRenameMe sets the name this device goes by in group, or in every
// group (group "").
func (c *Client) GroupRenameMe(ctx context.Context, name, group string) (api.DeviceName, error) {
	var out api.DeviceName
	q := url.Values{"name": {name}}
	if group != "" {
		q.Set("group", group)
	}
	return out, c.postJSON(ctx, "/groups/rename-me", q, &out)
}

// GroupUnshare withdraws cid from group.
func (c *Client) GroupUnshare(ctx context.Context, group, cid string) error {
	q := groupQuery(group)
	q.Set("cid", cid)
	return c.postJSON(ctx, "/groups/unshare", q, nil)
}

// GroupStatus reports cid's replication in every group sharing it.
func (c *Client) GroupStatus(ctx context.Context, cid string) ([]api.GroupStatus, error) {
	var st []api.GroupStatus
	return st, c.getJSON(ctx, "/groups/status", cidQuery(cid), &st)
}

// GroupStatuses reports the replication of every root shared in any group.
func (c *Client) GroupStatuses(ctx context.Context) ([]api.GroupStatus, error) {
	var st []api.GroupStatus
	return st, c.getJSON(ctx, "/groups/status/all", nil, &st)
}

// GroupRemove removes member from group.
func (c *Client) GroupRemove(ctx context.Context, group, member string) (api.GroupMember, error) {
	var out api.GroupMember
	q := groupQuery(group)
	q.Set("member", member)
	return out, c.postJSON(ctx, "/groups/remove", q, &out)
}

// GroupInvite makes an invite to group, good for ttl (0: 7 days) and uses
// devices (0: any number).
func (c *Client) GroupInvite(ctx context.Context, group string, ttl time.Duration, uses int) (api.GroupInvite, error) {
	var out api.GroupInvite
	q := groupQuery(group)
	if ttl > 0 {
		q.Set("expires", ttl.String())
	}
	q.Set("uses", strconv.Itoa(uses))
	return out, c.postJSON(ctx, "/groups/invite", q, &out)
}

// GroupInvites lists the invites this device made to group.
func (c *Client) GroupInvites(ctx context.Context, group string) ([]api.Invite, error) {
	var out []api.Invite
	return out, c.getJSON(ctx, "/groups/invites", groupQuery(group), &out)
}

// GroupRevokeInvites revokes the invite whose ID starts with id, or all.
func (c *Client) GroupRevokeInvites(ctx context.Context, group, id string) (int, error) {
	var out struct{ Revoked int }
	q := groupQuery(group)
	q.Set("id", id)
	return out.Revoked, c.postJSON(ctx, "/groups/invites/revoke", q, &out)
}

// GroupWatch has the share of opts.Cid in group follow the folder at path
// (made absolute here).
func (c *Client) GroupWatch(ctx context.Context, group, path string, opts api.WatchOptions) (api.GroupWatch, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return api.GroupWatch{}, fmt.Errorf("watch %s: %w", path, err)
	}
	q := groupQuery(group)
	q.Set("path", abs)
	q.Set("copies", strconv.Itoa(opts.Copies))
	q.Set("cid", opts.Cid)
	q.Set("since", opts.Since.Format(time.RFC3339Nano))
	for _, p := range opts.Exclude {
		q.Add("exclude", p)
	}
	if opts.Keep > 0 {
		q.Set("keep", strconv.Itoa(opts.Keep))
	}
	var w api.GroupWatch
	return w, c.postJSON(ctx, "/groups/watch", q, &w)
}

// GroupWatches lists the folders whose shares follow them.
func (c *Client) GroupWatches(ctx context.Context) ([]api.GroupWatch, error) {
	var ws []api.GroupWatch
	return ws, c.getJSON(ctx, "/groups/watches", nil, &ws)
}

// GroupUnwatch stops following path (made absolute here) in group ("":
// every group).
func (c *Client) GroupUnwatch(ctx context.Context, group, path string) ([]api.GroupWatch, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("unwatch %s: %w", path, err)
	}
	q := url.Values{"path": {abs}}
	if group != "" {
		q.Set("group", group)
	}
	var ws []api.GroupWatch
	return ws, c.postJSON(ctx, "/groups/unwatch", q, &ws)
}

// GroupMirror has the folder at path (made absolute here), holding the
// version cid of what group shares as name, follow that name, leaving out
// what exclude names.
func (c *Client) GroupMirror(ctx context.Context, group, name, path, cid string, exclude ...string) (api.GroupMirror, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return api.GroupMirror{}, fmt.Errorf("mirror %s: %w", path, err)
	}
	q := groupQuery(group)
	q.Set("name", name)
	q.Set("path", abs)
	q.Set("cid", cid)
	for _, x := range exclude {
		q.Add("exclude", x)
	}
	var m api.GroupMirror
	return m, c.postJSON(ctx, "/groups/mirror", q, &m)
}

// GroupSync has the folder at path (made absolute here), which holds the
// version cid of what group shares as name, sync both ways (copies 0: as
// cid is shared; keep: versions before the newest kept shared too); since
// is when the add or get of it started.
func (c *Client) GroupSync(ctx context.Context, group, name, path, cid string, copies, keep int, since time.Time) (api.GroupMirror, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return api.GroupMirror{}, fmt.Errorf("sync %s: %w", path, err)
	}
	q := groupQuery(group)
	q.Set("name", name)
	q.Set("path", abs)
	q.Set("cid", cid)
	if copies > 0 {
		q.Set("copies", strconv.Itoa(copies))
	}
	if keep > 0 {
		q.Set("keep", strconv.Itoa(keep))
	}
	q.Set("since", since.Format(time.RFC3339Nano))
	var m api.GroupMirror
	return m, c.postJSON(ctx, "/groups/sync", q, &m)
}

// GroupMirrors lists the folders that follow what a group shares.
func (c *Client) GroupMirrors(ctx context.Context) ([]api.GroupMirror, error) {
	var ms []api.GroupMirror
	return ms, c.getJSON(ctx, "/groups/mirrors", nil, &ms)
}

// GroupUnmirror stops following into path (made absolute here).
func (c *Client) GroupUnmirror(ctx context.Context, path string) (api.GroupMirror, error) {
	return c.postMirror(ctx, "/groups/unmirror", path)
}

// postMirror posts to route about the followed folder path (made
// absolute here).
func (c *Client) postMirror(ctx context.Context, route, path string) (api.GroupMirror, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return api.GroupMirror{}, fmt.Errorf("%s: %w", path, err)
	}
	var m api.GroupMirror
	return m, c.postJSON(ctx, route, url.Values{"path": {abs}}, &m)
}

// GroupMirrorRevert has the group's version written again over what was
// changed in the followed folder path (made absolute here).
func (c *Client) GroupMirrorRevert(ctx context.Context, path string) (api.GroupMirror, error) {
	return c.postMirror(ctx, "/groups/mirror/revert", path)
}

// GroupPause pauses (paused) or resumes the followed or watched folder
// path (made absolute here).
func (c *Client) GroupPause(ctx context.Context, path string, paused bool) (api.FolderPause, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return api.FolderPause{}, fmt.Errorf("%s: %w", path, err)
	}
	route := "/groups/resume"
	if paused {
		route = "/groups/pause"
	}
	var res api.FolderPause
	return res, c.postJSON(ctx, route, url.Values{"path": {abs}}, &res)
}
