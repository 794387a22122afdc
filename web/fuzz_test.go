package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
	"github.com/kith-p2p/kith/protocol/group"
	"github.com/kith-p2p/kith/web/api"
)

// fuzzBackend answers every route FuzzAPI drives. It checks what it is
// handed as the node does (an invite token, a CAR, an add's files, an
// address) and returns the node's kinds of errors, so that what reaches the
// client is what the daemon would send; it touches no disk.
type fuzzBackend struct {
	fakeBackend
}

func invalid(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, api.ErrInvalid)...)
}

func (*fuzzBackend) GroupJoin(_ context.Context, token string) (api.Group, error) {
	inv, err := group.DecodeInvite(strings.TrimSpace(token))
	if err != nil {
		return api.Group{}, fmt.Errorf("%w: %w", err, api.ErrInvalid)
	}
	return api.Group{ID: inv.Secret.ID().String(), Name: inv.Name}, nil
}

func (*fuzzBackend) GroupCreate(_ context.Context, name string) (api.GroupInvite, error) {
	return api.GroupInvite{Group: api.Group{Name: name}, Token: "kith1-x"}, nil
}

func (*fuzzBackend) GroupLeave(context.Context, string) error { return nil }

func (*fuzzBackend) GroupMembers(context.Context, string) ([]api.GroupMember, error) {
	return []api.GroupMember{}, nil
}

func (*fuzzBackend) GroupShare(_ context.Context, name string, c cid.Cid, opts api.ShareOptions) (api.GroupIntent, error) {
	if opts.Copies < group.MinCopies || opts.Copies > group.MaxCopies {
		return api.GroupIntent{}, invalid("copies %d", opts.Copies)
	}
	return api.GroupIntent{Group: name, Cid: c.String(), Copies: opts.Copies}, nil
}

func (*fuzzBackend) GroupUnshare(context.Context, string, cid.Cid) error { return nil }

func (*fuzzBackend) GroupRemove(_ context.Context, _, member string) (api.GroupMember, error) {
	return api.GroupMember{Peer: member}, nil
}
func (*fuzzBackend) GroupInvite(_ context.Context, g string, _ time.Duration, _ int) (api.GroupInvite, error) {
	return api.GroupInvite{Group: api.Group{Name: g}}, nil
}
func (*fuzzBackend) GroupInvites(context.Context, string) ([]api.Invite, error) { return nil, nil }
func (*fuzzBackend) GroupRevokeInvites(context.Context, string, string) (int, error) {
	return 0, nil
}
func (*fuzzBackend) GroupRenameMe(_ context.Context, name, _ string) (api.DeviceName, error) {
	return api.DeviceName{Name: name, Groups: []string{}}, nil
}

func (*fuzzBackend) GroupStatus(context.Context, cid.Cid) ([]api.GroupStatus, error) {
	return []api.GroupStatus{}, nil
}

func (*fuzzBackend) ImportCAR(ctx context.Context, r io.Reader, _ api.ImportOptions, progress func(api.Progress)) (api.ImportResult, error) {
	roots, n, err := dag.ImportCAR(ctx, blockstore.NewMemStore(), r)
	if err != nil {
		return api.ImportResult{}, fmt.Errorf("import CAR: %w: %w", err, api.ErrInvalid)
	}
	progress(api.Progress{Count: int64(n)})
	res := api.ImportResult{Blocks: n, Roots: []string{}}
	for _, c := range roots {
		res.Roots = append(res.Roots, c.String())
	}
	return res, nil
}

// Add reads every file of node to the end, as an import does.
func (*fuzzBackend) Add(_ context.Context, name string, node files.Node, _ api.AddOptions, progress func(api.Progress)) (api.AddResult, error) {
	var total int64
	var walk func(files.Node) error
	walk = func(n files.Node) error {
		defer n.Close()
		switch n := n.(type) {
		case files.File:
			k, err := io.Copy(io.Discard, n)
			total += k
			progress(api.Progress{Bytes: total})
			return err
		case files.Directory:
			it := n.Entries()
			for it.Next() {
				if err := walk(it.Node()); err != nil {
					return err
				}
			}
			return it.Err()
		}
		return errors.New("unsupported file type")
	}
	if err := walk(node); err != nil {
		return api.AddResult{}, invalid("add %q: %v", name, err)
	}
	return api.AddResult{Name: name, Size: uint64(total)}, nil
}

func (*fuzzBackend) AddPaths(_ context.Context, paths []string, _ api.AddOptions, _ func(api.Progress)) (api.AddResult, error) {
	return api.AddResult{}, invalid("%q: no such file (the fuzz backend reads no disk)", paths)
}

func (f *fuzzBackend) Get(ctx context.Context, ref string, out string, _ []string, _ func(api.Progress)) (api.GetResult, error) {
	c, err := f.ResolveRef(ctx, ref)
	if err != nil {
		return api.GetResult{}, err
	}
	return api.GetResult{}, fmt.Errorf("get %s to %q: %w", c, out, blockstore.ErrNotFound)
}

func (*fuzzBackend) Cat(_ context.Context, _ cid.Cid, offset, length int64) (io.ReadCloser, error) {
	content := "the content of every CID"
	if offset < 0 || offset > int64(len(content)) {
		return nil, invalid("offset %d", offset)
	}
	r := io.Reader(strings.NewReader(content[offset:]))
	if length >= 0 {
		r = io.LimitReader(r, length)
	}
	return io.NopCloser(r), nil
}

func (*fuzzBackend) Ls(context.Context, cid.Cid) ([]api.Entry, error) { return []api.Entry{}, nil }

func (*fuzzBackend) Stat(_ context.Context, c cid.Cid) (api.Entry, error) {
	return api.Entry{Cid: c.String()}, nil
}

func (*fuzzBackend) PinAdd(_ context.Context, c cid.Cid, opts api.PinOptions, _ func(api.Progress)) (api.Pin, error) {
	return api.Pin{Cid: c.String(), Name: opts.Name}, nil
}

func (*fuzzBackend) ExportCAR(_ context.Context, c cid.Cid, w io.Writer) error {
	_, err := io.WriteString(w, c.String())
	return err
}

func (*fuzzBackend) Connect(_ context.Context, addr string) (api.PeerInfo, error) {
	if _, err := ma.NewMultiaddr(addr); err != nil {
		return api.PeerInfo{}, invalid("address %q: %v", addr, err)
	}
	return api.PeerInfo{Addrs: []string{addr}}, nil
}

func (*fuzzBackend) FindProviders(context.Context, cid.Cid, int) ([]api.PeerInfo, error) {
	return []api.PeerInfo{}, nil
}

func (*fuzzBackend) FindPeer(_ context.Context, id string) (api.PeerInfo, error) {
	p, err := peer.Decode(id)
	if err != nil {
		return api.PeerInfo{}, invalid("peer ID %q: %v", id, err)
	}
	return api.PeerInfo{ID: p.String()}, nil
}

func (*fuzzBackend) Ticket(_ context.Context, c cid.Cid) (api.TicketInfo, error) {
	return api.TicketInfo{Cid: c.String()}, nil
}

// fuzzRoutes are the routes that read something from the client: a body,
// or query parameters the server parses.
var fuzzRoutes = []struct {
	method, path string
	// bodyLimit is the most the handler may read of the body (0: no limit:
	// it streams the body into the backend).
	bodyLimit int
}{
	{"POST", api.Prefix + "/groups/join", maxTokenBytes + 1},
	{"POST", signInPath, 1024},
	{"POST", api.Prefix + "/import", 0},
	{"POST", api.Prefix + "/add", 0},
	{"GET", api.Prefix + "/cat", 0},
	{"GET", api.Prefix + "/ls", 0},
	{"GET", api.Prefix + "/stat", 0},
	{"POST", api.Prefix + "/get", 0},
	{"POST", api.Prefix + "/pin/add", 0},
	{"POST", api.Prefix + "/pin/rm", 0},
	{"GET", api.Prefix + "/export", 0},
	{"GET", api.Prefix + "/ticket", 0},
	{"POST", api.Prefix + "/connect", 0},
	{"GET", api.Prefix + "/dht/findprovs", 0},
	{"GET", api.Prefix + "/dht/findpeer", 0},
	{"POST", api.Prefix + "/groups/create", 0},
	{"POST", api.Prefix + "/groups/leave", 0},
	{"GET", api.Prefix + "/groups/members", 0},
	{"POST", api.Prefix + "/groups/share", 0},
	{"POST", api.Prefix + "/groups/unshare", 0},
	{"GET", api.Prefix + "/groups/status", 0},
	{"POST", api.Prefix + "/jobs/fetch", 0},
	{"POST", api.Prefix + "/jobs/cancel", 0},
	{"POST", api.Prefix + "/jobs/pause", 0},
	{"POST", api.Prefix + "/jobs/resume", 0},
	{"GET", api.Prefix + "/uploads", 0},
}

// countingBody is a request body that counts what the handler reads and,
// if cut is set, fails after cut bytes, as a client that goes away does.
type countingBody struct {
	r    io.Reader
	read int
	cut  int
}

var errClientGone = errors.New("connection reset by the client")

func (b *countingBody) Read(p []byte) (int, error) {
	if b.cut > 0 && b.read >= b.cut {
		return 0, errClientGone
	}
	if b.cut > 0 && len(p) > b.cut-b.read {
		p = p[:b.cut-b.read]
	}
	n, err := b.r.Read(p)
	b.read += n
	return n, err
}

func (b *countingBody) Close() error { return nil }

// checkResponse fails unless rec holds what a client can act on: 2xx, or a
// 4xx whose JSON body names a kind (the fuzz backend never fails for a
// reason of its own, so a 5xx is the server misreading the request); an
// event stream ends with a result or an error of such a kind.
func checkResponse(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if rec.Code >= 400 {
		var eb api.ErrorBody
		if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || eb.Error == "" || eb.Kind.Status() != rec.Code {
			t.Fatalf("status %d with body %q", rec.Code, rec.Body)
		}
		return
	}
	if rec.Header().Get("Content-Type") != "application/x-ndjson" {
		return
	}
	var last api.Event
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		if err := json.Unmarshal(sc.Bytes(), &last); err != nil {
			t.Fatalf("event stream line %q: %v", sc.Text(), err)
		}
	}
	switch {
	case last.Type == "done":
	case last.Type == "error" && last.Kind != api.KindInternal && last.Error != "":
	default:
		t.Fatalf("event stream ends with %+v", last)
	}
}

// multipartBody is an add request's body: files as the CLI sends them.
func multipartBody(tb testing.TB, parts map[string]string) (contentType string, body []byte) {
	tb.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for name, content := range parts {
		w, err := mw.CreateFormFile("file", name)
		if err != nil {
			tb.Fatal(err)
		}
		_, _ = io.WriteString(w, content)
	}
	if err := mw.Close(); err != nil {
		tb.Fatal(err)
	}
	return mw.FormDataContentType(), buf.Bytes()
}

// FuzzAPI sends the API's routes that read client input a request with
// fuzzed query, Content-Type, Origin and body, through the guard, to a
// backend that checks input as the node does. No request may panic the
// server or earn a 5xx; refusals are 4xx with a JSON error; handlers read
// no more of a body than their bound.
func FuzzAPI(f *testing.F) {
	s, err := Listen("127.0.0.1:0", &fuzzBackend{}, "secret-token")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	h := s.http.Handler

	route := func(path string) uint8 {
		for i, r := range fuzzRoutes {
			if r.path == api.Prefix+path || r.path == path {
				return uint8(i)
			}
		}
		f.Fatalf("no route %s", path)
		return 0
	}
	var sec group.Secret
	token, err := group.EncodeInvite(group.Invite{Name: "family", Secret: sec, Addrs: []string{"/ip4/192.0.2.1/tcp/4001"}})
	if err != nil {
		f.Fatal(err)
	}
	const c = "bafkreicljtzuqjre64mv5kc5pf3plz2wsh2fjhkrof3v6rgdvkdfva24qe"
	f.Add(route("/groups/join"), "", "text/plain", "", []byte(token), uint16(0))
	f.Add(route("/groups/join"), "", "text/plain", "", []byte("kith1-garbage"), uint16(0))
	f.Add(route(signInPath), "", "text/plain", "http://127.0.0.1", []byte("abcdef"), uint16(0))
	f.Add(route("/import"), "allow_partial=true", "application/vnd.ipld.car", "", []byte{0x0a, 0xa1, 0x67, 0x76}, uint16(0))
	ct, body := multipartBody(f, map[string]string{"a.txt": "hello"})
	f.Add(route("/add"), "name=a&total=5", ct, "", body, uint16(0))
	f.Add(route("/add"), "name=a&total=5", ct, "", body, uint16(40))
	f.Add(route("/cat"), "cid="+c+"&offset=3&length=4", "", "", []byte{}, uint16(0))
	f.Add(route("/cat"), "cid="+c+"&offset=-1", "", "", []byte{}, uint16(0))
	f.Add(route("/get"), "cid="+c+"&out=x", "", "", []byte{}, uint16(0))
	f.Add(route("/groups/share"), "group=family&cid="+c+"&copies=2", "", "", []byte{}, uint16(0))
	f.Add(route("/dht/findprovs"), "cid="+c+"&max=0", "", "", []byte{}, uint16(0))
	f.Add(route("/connect"), "addr=/ip4/1.2.3.4/tcp/1", "", "", []byte{}, uint16(0))
	f.Add(route("/dht/findpeer"), "id=12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq", "", "", []byte{}, uint16(0))
	f.Add(route("/jobs/fetch"), "cid="+c+"&name=x", "", "", []byte{}, uint16(0))
	f.Add(route("/jobs/cancel"), "id=job1", "", "", []byte{}, uint16(0))
	f.Add(route("/jobs/pause"), "id=job1", "", "", []byte{}, uint16(0))
	f.Add(route("/jobs/resume"), "id=job1", "", "", []byte{}, uint16(0))
	f.Add(route("/uploads"), "", "", "", []byte{}, uint16(0))
	f.Add(route("/export"), "cid=%zz", "", "", []byte{}, uint16(0))

	f.Fuzz(func(t *testing.T, which uint8, query, contentType, origin string, body []byte, cut uint16) {
		rt := fuzzRoutes[int(which)%len(fuzzRoutes)]
		b := &countingBody{r: bytes.NewReader(body), cut: int(cut)}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, rt.method, "http://"+s.Addr()+rt.path+"?"+query, b)
		if err != nil {
			return // not a request a client can send
		}
		req.Header.Set("Authorization", "Bearer secret-token")
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if rt.path == signInPath {
			req.Header.Set("Sec-Fetch-Site", "same-origin")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkResponse(t, rec)
		if rt.bodyLimit > 0 && b.read > rt.bodyLimit {
			t.Fatalf("%s read %d bytes of the body, more than its bound %d", rt.path, b.read, rt.bodyLimit)
		}
		switch {
		case rt.path == signInPath && rec.Code == http.StatusOK:
			t.Fatal("a made-up sign-in code was accepted")
		case strings.HasSuffix(rt.path, "/groups/join") && rec.Code == http.StatusOK:
			if _, err := group.DecodeInvite(strings.TrimSpace(string(body))); err != nil {
				t.Fatalf("join accepted a token that does not decode: %v", err)
			}
		}
	})
}
