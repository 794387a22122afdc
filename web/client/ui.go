package client

import (
	"context"
	"net/url"

	"github.com/kith-p2p/kith/web/api"
)

// LoginURL asks the daemon for a one-time link that signs a browser in to
// the web UI.
func (c *Client) LoginURL(ctx context.Context) (api.LoginCode, error) {
	var lc api.LoginCode
	err := c.postJSON(ctx, "/ui/login", nil, &lc)
	return lc, err
}

// WaitLogin waits until the sign-in link named id is used or expires, and
// returns which (api.LoginSignedIn or api.LoginExpired).
func (c *Client) WaitLogin(ctx context.Context, id string) (string, error) {
	var st api.LoginState
	err := c.getJSON(ctx, "/ui/login/wait", url.Values{"id": {id}}, &st)
	return st.State, err
}

// RevokeSessions signs every browser out of the web UI, and voids sign-in
// links not used yet; it returns how many sessions ended.
func (c *Client) RevokeSessions(ctx context.Context) (int, error) {
	var rv api.Revoked
	err := c.postJSON(ctx, "/ui/revoke", nil, &rv)
	return rv.Sessions, err
}

// StartFetch starts a background fetch-and-pin of cid in the daemon.
func (c *Client) StartFetch(ctx context.Context, cid, name string) (api.Job, error) {
	q := url.Values{"cid": {cid}}
	if name != "" {
		q.Set("name", name)
	}
	var j api.Job
	err := c.postJSON(ctx, "/jobs/fetch", q, &j)
	return j, err
}

// Jobs lists the daemon's running and recently finished background jobs.
func (c *Client) Jobs(ctx context.Context) ([]api.Job, error) {
	var js []api.Job
	err := c.getJSON(ctx, "/jobs", nil, &js)
	return js, err
}

// CancelJob stops a background job.
func (c *Client) CancelJob(ctx context.Context, id string) (api.Job, error) {
	var j api.Job
	err := c.postJSON(ctx, "/jobs/cancel", url.Values{"id": {id}}, &j)
	return j, err
}

// PauseJob stops a background job's fetch and keeps it, paused, with what
// it fetched.
func (c *Client) PauseJob(ctx context.Context, id string) (api.Job, error) {
	var j api.Job
	err := c.postJSON(ctx, "/jobs/pause", url.Values{"id": {id}}, &j)
	return j, err
}

// ResumeJob starts a paused background job's fetch again.
func (c *Client) ResumeJob(ctx context.Context, id string) (api.Job, error) {
	var j api.Job
	err := c.postJSON(ctx, "/jobs/resume", url.Values{"id": {id}}, &j)
	return j, err
}
