// Package client is the Go client of kith's local HTTP API, used by the CLI.
package client

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/kith-p2p/kith/web/api"
)

// ErrNoDaemon means no daemon answers for the repo.
var ErrNoDaemon = errors.New("no kith daemon is running (start it with `kith daemon`)")

// Client talks to one daemon.
type Client struct {
	base  string // http://host:port
	token string
	http  *http.Client
	// repo is the daemon's repo folder when the client was made from it
	// (FromRepo): what the client reads and streams leaves it out.
	repo string
}

// New returns a client for the API at addr (host:port) with its token.
func New(addr, token string) *Client {
	return &Client{base: "http://" + addr, token: token, http: &http.Client{}}
}

// FromRepo finds the running daemon of the repo at dir through the API
// address and token files the daemon writes there.
func FromRepo(dir string) (*Client, error) {
	addr, err := os.ReadFile(filepath.Join(dir, api.APIFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoDaemon
	}
	if err != nil {
		return nil, fmt.Errorf("read API address from repo %s: %w", dir, err)
	}
	tok, err := os.ReadFile(filepath.Join(dir, api.TokenFile))
	if err != nil {
		return nil, fmt.Errorf("read API token from repo %s: %w", dir, err)
	}
	c := New(strings.TrimSpace(string(addr)), strings.TrimSpace(string(tok)))
	c.repo = dir
	return c, nil
}

func (c *Client) url(path string, q url.Values) string {
	u := c.base + api.Prefix + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// do sends a request and returns the response if its status is 2xx; any
// other status becomes an *api.Error with the daemon's message.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, body io.Reader, contentType string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.url(path, q), body)
	if err != nil {
		return nil, err
	}
	req.Header.Set(api.TokenHeader, "Bearer "+c.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if isConnRefused(err) {
			return nil, ErrNoDaemon
		}
		return nil, fmt.Errorf("reach the daemon at %s: %w", c.base, err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		var eb api.ErrorBody
		if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&eb); err != nil || eb.Error == "" {
			return nil, &api.Error{Kind: api.KindInternal, Message: fmt.Sprintf("the daemon answered %s", resp.Status)}
		}
		return nil, &api.Error{Kind: eb.Kind, Message: eb.Error}
	}
	return resp, nil
}

// Hold keeps a daemon started for another command from stopping when that
// command ends (POST /hold), until release is called or ctx ends. It
// returns once the daemon has answered, holding.
func (c *Client) Hold(ctx context.Context) (release func(), err error) {
	ctx, cancel := context.WithCancel(ctx)
	resp, err := c.do(ctx, http.MethodPost, "/hold", nil, nil, "")
	if err != nil {
		cancel()
		return nil, err
	}
	return func() {
		cancel()
		resp.Body.Close()
	}, nil
}

func isConnRefused(err error) bool {
	var op *net.OpError
	return errors.Is(err, syscall.ECONNREFUSED) || (errors.As(err, &op) && op.Op == "dial")
}

// getJSON GETs path and decodes the JSON answer into v.
func (c *Client) getJSON(ctx context.Context, path string, q url.Values, v any) error {
	resp, err := c.do(ctx, http.MethodGet, path, q, nil, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}

// postJSON POSTs to path and decodes the JSON answer into v (if not nil).
func (c *Client) postJSON(ctx context.Context, path string, q url.Values, v any) error {
	resp, err := c.do(ctx, http.MethodPost, path, q, nil, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if v == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// stream sends a request whose answer is an NDJSON event stream, calls
// progress for each progress event and decodes the final result into v.
func (c *Client) stream(ctx context.Context, method, path string, q url.Values, body io.Reader, contentType string, progress func(api.Event), v any) error {
	resp, err := c.do(ctx, method, path, q, body, contentType)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var ev api.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return fmt.Errorf("decode event from the daemon: %w", err)
		}
		switch ev.Type {
		case "progress":
			if progress != nil {
				progress(ev)
			}
		case "error":
			return &api.Error{Kind: ev.Kind, Message: ev.Error}
		case "done":
			if v == nil {
				return nil
			}
			return json.Unmarshal(ev.Result, v)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read events from the daemon: %w", err)
	}
	return errors.New("the daemon closed the stream before the operation finished")
}
