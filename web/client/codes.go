package client

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/kith-p2p/kith/web/api"
)

// OpenCode opens a short code for the content c, pinned in the daemon's
// repo, until ctx ends (POST /codes). closed delivers, once, why the code
// closed before that: the daemon closed it (too many wrong tries) or
// stopped.
func (c *Client) OpenCode(ctx context.Context, cidStr string) (code string, closed <-chan error, err error) {
	resp, err := c.do(ctx, http.MethodPost, "/codes", url.Values{"cid": {cidStr}}, nil, "")
	if err != nil {
		return "", nil, err
	}
	rd := bufio.NewReader(resp.Body)
	var open api.Code
	if err := json.NewDecoder(strings.NewReader(readLine(rd))).Decode(&open); err != nil || open.Code == "" {
		resp.Body.Close()
		return "", nil, fmt.Errorf("open a code: the daemon's answer: %v", err)
	}
	ch := make(chan error, 1)
	go func() {
		defer resp.Body.Close()
		line := readLine(rd)
		if ctx.Err() != nil {
			return // ended by the caller
		}
		var eb api.ErrorBody
		if line != "" && json.Unmarshal([]byte(line), &eb) == nil && eb.Error != "" {
			ch <- &api.Error{Kind: eb.Kind, Message: eb.Error}
			return
		}
		ch <- ErrNoDaemon // it stopped: the code with it
	}()
	return open.Code, ch, nil
}

func readLine(rd *bufio.Reader) string {
	line, _ := rd.ReadString('\n')
	return strings.TrimSpace(line)
}

// ResolveCode finds the sender of a short code and returns the ticket it
// gives (POST /codes/resolve). The code goes in the request body, never in
// the URL.
func (c *Client) ResolveCode(ctx context.Context, code string) (string, error) {
	resp, err := c.do(ctx, http.MethodPost, "/codes/resolve", nil, strings.NewReader(code), "text/plain")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var t api.CodeTicket
	if err := json.NewDecoder(resp.Body).Decode(&t); err != nil {
		return "", fmt.Errorf("resolve a code: the daemon's answer: %w", err)
	}
	return t.Ticket, nil
}
