// Package trustless fetches blocks from HTTP providers: servers of the
// Trustless Gateway protocol that pinning services and storage providers
// announce to IPNI (transport-ipfs-gateway-http, at a /tls/http or /https
// multiaddr). A block is GET /ipfs/CID?format=raw with Accept:
// application/vnd.ipld.raw, and is checked against its CID before it is
// passed on, so a provider is trusted with nothing.
//
// As Kubo's HTTP retrieval: HTTPS only, over HTTP/2 (one connection
// carries every request to a host), redirects are not followed, blocks
// are at most 2 MiB (Bitswap's limit), and a provider is first probed
// with the empty identity CID. And, kith's own: only hosts at public
// addresses are asked, whatever their name resolves to, so an index
// cannot make the daemon send requests to the user's LAN or machine.
//
// A Wantlist (fetch.Wantlist) carries one fetch's wants to one provider,
// so the fetch scheduler asks an HTTP provider as it asks a Bitswap peer.
package trustless

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/ipfs/go-cid"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// MaxBlockSize is the largest block taken from an HTTP provider, as
// Bitswap's (and Kubo's HTTPRetrieval.MaxBlockSize).
const MaxBlockSize = 2 << 20

// requestTimeout bounds one request, from sending it to the last byte of
// a block (2 MiB at 1 Mbit/s takes 16 s).
const requestTimeout = time.Minute

// probeCID is the empty identity CID, which every trustless gateway
// serves without asking anyone (the spec's probe path).
const probeCID = "bafkqaaa"

// Options configure a Client.
type Options struct {
	// UserAgent is sent with every request.
	UserAgent string
	// RootCAs are the certificate authorities trusted (nil: the
	// system's, which SSL_CERT_FILE and SSL_CERT_DIR can name).
	RootCAs *x509.CertPool
	// AllowPrivate lets the Client ask hosts at loopback and private
	// addresses (tests with a server on 127.0.0.1).
	AllowPrivate bool
}

// A Client asks HTTP providers for blocks. It is safe for concurrent use.
type Client struct {
	hc *http.Client
	ua string
}

// New returns a Client.
func New(o Options) *Client {
	d := &net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}
	if !o.AllowPrivate {
		d.Control = publicOnly
	}
	tr := &http.Transport{
		// No proxy: the providers are dialled as peers are, and only
		// at public addresses (publicOnly), which a proxy would hide.
		Proxy:                 nil,
		DialContext:           d.DialContext,
		TLSClientConfig:       &tls.Config{RootCAs: o.RootCAs, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   4,
	}
	return &Client{
		ua: o.UserAgent,
		hc: &http.Client{
			Transport: tr,
			// A provider's announcement names where it serves; a
			// redirect elsewhere is not followed (as Kubo).
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// Close closes the Client's idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// publicOnly refuses a connection to an address that is not public.
func publicOnly(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return err
	}
	a, err := manet.FromIP(ap.Addr().WithZone("").Unmap().AsSlice())
	if err != nil || !manet.IsPublicAddr(a) || ap.Addr().Zone() != "" {
		return fmt.Errorf("%s is not a public address (only providers on the internet are asked)", ap.Addr())
	}
	return nil
}

// Endpoint is the base URL (https://HOST[:PORT]) of an HTTP provider from
// its multiaddrs: the first that names HTTPS (/tls/http, /https, with an
// IP or a DNS name). ok is false when none does; plain HTTP is not used.
func Endpoint(addrs []ma.Multiaddr) (base *url.URL, ok bool) {
	for _, a := range addrs {
		if u, ok := httpsURL(a); ok {
			return u, true
		}
	}
	return nil, false
}

// IsHTTP reports whether a is an HTTP address (/http, /https, /tls/http),
// which libp2p cannot dial.
func IsHTTP(a ma.Multiaddr) bool {
	for _, p := range a.Protocols() {
		switch p.Code {
		case ma.P_HTTP, ma.P_HTTPS:
			return true
		}
	}
	return false
}

func httpsURL(a ma.Multiaddr) (*url.URL, bool) {
	var host, port string
	var secure, web bool
	for _, c := range a {
		switch c.Protocol().Code {
		case ma.P_IP4, ma.P_IP6, ma.P_DNS, ma.P_DNS4, ma.P_DNS6:
			host = c.Value()
		case ma.P_TCP:
			port = c.Value()
		case ma.P_TLS:
			secure = true
		case ma.P_HTTP:
			web = true
		case ma.P_HTTPS:
			web, secure = true, true
		case ma.P_SNI, ma.P_P2P:
		default:
			return nil, false // another transport (QUIC, a path, ...)
		}
	}
	if host == "" || !web || !secure {
		return nil, false
	}
	if port == "" {
		port = "443"
	}
	u := &url.URL{Scheme: "https", Host: net.JoinHostPort(host, port)}
	if port == "443" {
		u.Host = host
		if strings.Contains(host, ":") {
			u.Host = "[" + host + "]"
		}
	}
	return u, true
}

// Probe checks that base is a trustless gateway kith can use: the probe
// path answered over HTTP/2 with 200 (or 204, or 410, as boxo's client
// takes them: some providers answer the probe so). Its errors, and those
// of a wantlist, do not name the provider: the caller does.
func (c *Client) Probe(ctx context.Context, base *url.URL) error {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	resp, err := c.get(ctx, base, probeCID)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<10))
	if resp.ProtoMajor != 2 {
		return fmt.Errorf("it answers over %s, not HTTP/2", resp.Proto)
	}
	switch resp.StatusCode {
	case http.StatusOK, http.StatusNoContent, http.StatusGone:
		return nil
	}
	return fmt.Errorf("not a trustless gateway (its probe answered %s)", resp.Status)
}

// get sends the request for the block c (a CID's string) to base.
func (c *Client) get(ctx context.Context, base *url.URL, id string) (*http.Response, error) {
	u := *base
	u.Path = strings.TrimSuffix(u.Path, "/") + "/ipfs/" + id
	u.RawQuery = "format=raw"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/vnd.ipld.raw")
	if c.ua != "" {
		req.Header.Set("User-Agent", c.ua)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is said by the caller
		}
		return nil, err
	}
	return resp, nil
}

// block is the answer to one request for a block.
type block struct {
	data       []byte
	missing    bool          // the provider does not have it
	retryAfter time.Duration // >0: try again after this long (busy, 5xx)
}

// fetchBlock asks base for c and checks what comes against c.
func (c *Client) fetchBlock(ctx context.Context, base *url.URL, id cid.Cid) (block, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	resp, err := c.get(ctx, base, id.String())
	if err != nil {
		return block{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBlockSize+1))
	if err != nil {
		return block{}, fmt.Errorf("read %s: %w", id, err)
	}
	status := resp.StatusCode
	if status == http.StatusInternalServerError && knownNotFound(string(body)) {
		status = http.StatusNotFound
	}
	switch {
	case status == http.StatusOK:
		if len(body) > MaxBlockSize {
			return block{}, fmt.Errorf("it sent a block over %d MiB for %s", MaxBlockSize>>20, id)
		}
		got, err := id.Prefix().Sum(body)
		if err != nil || !got.Equals(id) {
			return block{}, fmt.Errorf("it sent bytes that are not %s", id)
		}
		return block{data: body}, nil
	case status == http.StatusTooManyRequests || status >= 500:
		return block{retryAfter: retryAfter(resp.Header.Get("Retry-After"))}, fmt.Errorf("it answered %s for %s", resp.Status, id)
	default:
		// 404 and 410 above all; also what says "not here" otherwise (403,
		// 451, a redirect elsewhere): the block is asked of other peers.
		return block{missing: true}, nil
	}
}

// retryAfter reads a Retry-After header (seconds or a date), bounded to
// [1 s, 30 s]; 2 s when there is none.
func retryAfter(h string) time.Duration {
	d := 2 * time.Second
	if h != "" {
		var secs int
		if _, err := fmt.Sscanf(h, "%d", &secs); err == nil {
			d = time.Duration(secs) * time.Second
		} else if t, err := http.ParseTime(h); err == nil {
			d = time.Until(t)
		}
	}
	return min(max(d, time.Second), 30*time.Second)
}

// knownNotFound reports whether a 500's body says the block is not there
// (gateways that answer so instead of 404, as boxo's client knows them).
func knownNotFound(body string) bool {
	for _, s := range []string{"ipld: could not find node", "peer does not have", "getting pieces containing cid", "failed to load root node"} {
		if strings.HasPrefix(body, s) {
			return true
		}
	}
	return false
}
