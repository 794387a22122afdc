package node

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipfs/boxo/files"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	carv2 "github.com/ipld/go-car/v2"
	carstorage "github.com/ipld/go-car/v2/storage"
	mh "github.com/multiformats/go-multihash"
	"go.uber.org/goleak"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/web/api"
	"github.com/kith-p2p/kith/web/client"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// go-flow-metrics (libp2p's bandwidth counter) runs one process-wide
		// sweeper that is never stopped by design.
		goleak.IgnoreAnyFunction("github.com/libp2p/go-flow-metrics.(*sweeper).run"),
		goleak.IgnoreAnyFunction("github.com/libp2p/go-flow-metrics.(*sweeper).runActive"),
		// boxo's delegated routing client measures with OpenCensus, whose
		// package starts one process-wide worker when it loads.
		goleak.IgnoreTopFunction("go.opencensus.io/stats/view.(*worker).start"),
	)
}

// quietLog keeps test and benchmark output readable; failures say what
// went wrong through their errors.
var quietLog = testLog()

func testLog() *slog.Logger {
	if os.Getenv("KITH_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// newNodeAt starts a node with the local profile on the repo in dir (new
// or existing), its config adjusted by configure (may be nil). It is closed
// when the test ends; closing it earlier is fine.
func newNodeAt(tb testing.TB, dir string, configure func(*Config)) *Node {
	tb.Helper()
	return newNodeLogging(tb, dir, quietLog, configure)
}

// newNodeLogging is newNodeAt with the node's log going to log.
func newNodeLogging(tb testing.TB, dir string, log *slog.Logger, configure func(*Config)) *Node {
	tb.Helper()
	n, err := New(Options{Repo: dir, Profile: "local", Logger: log, Configure: configure})
	if err != nil {
		tb.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		n.Close()
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := n.Close(); err != nil {
			tb.Errorf("close node: %v", err)
		}
	})
	return n
}

// startNode runs a node on a fresh repo and returns it with an API client.
func startNode(t *testing.T) (*Node, *client.Client) {
	t.Helper()
	n := newNodeAt(t, t.TempDir(), nil)
	c, err := client.FromRepo(n.repo.dir)
	if err != nil {
		t.Fatal(err)
	}
	return n, c
}

func TestAddCatGetRoundTrip(t *testing.T) {
	_, c := startNode(t)
	ctx := context.Background()
	data := make([]byte, 3<<20+12345)
	rand.Read(data)
	src := filepath.Join(t.TempDir(), "blob.bin")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := c.AddPath(ctx, src, false, api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Pinned || res.Name != "blob.bin" || res.Size != uint64(len(data)) {
		t.Fatalf("add result %+v", res)
	}
	r, err := c.Cat(ctx, res.Cid, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(r)
	r.Close()
	if !bytes.Equal(got, data) {
		t.Fatalf("cat returned %d bytes, want the %d added", len(got), len(data))
	}
	r, err = c.Cat(ctx, res.Cid, 1<<20-5, 10)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(r)
	r.Close()
	if !bytes.Equal(got, data[1<<20-5:1<<20+5]) {
		t.Fatalf("cat with offset/length across a chunk border returned %x", got)
	}
	out := filepath.Join(t.TempDir(), "out.bin")
	if _, err := c.Get(ctx, res.Cid, out, nil); err != nil {
		t.Fatal(err)
	}
	back, _ := os.ReadFile(out)
	if !bytes.Equal(back, data) {
		t.Fatal("get wrote different bytes")
	}
	// Again: the file is there, nothing is written; over another file:
	// refused.
	if again, err := c.Get(ctx, res.Cid, out, nil); err != nil || !again.Existed || again.Size != uint64(len(data)) {
		t.Fatalf("get again: %+v, %v; want the file taken as it is", again, err)
	}
	data[len(data)-1]++
	if err := os.WriteFile(out, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, res.Cid, out, nil); err == nil || !strings.Contains(err.Error(), "already exists: kith never overwrites") {
		t.Fatalf("get over another file: %v, want it refused", err)
	}
	if back, _ := os.ReadFile(out); !bytes.Equal(back, data) {
		t.Fatal("get overwrote another file")
	}
}

func TestHelloKithVector(t *testing.T) {
	_, c := startNode(t)
	dir := t.TempDir()
	p := filepath.Join(dir, "hello.txt")
	os.WriteFile(p, []byte("hello kith\n"), 0o644)
	res, err := c.AddPath(context.Background(), p, false, api.AddOptions{Name: "greeting"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := "bafkreicljtzuqjre64mv5kc5pf3plz2wsh2fjhkrof3v6rgdvkdfva24qe"; res.Cid != want {
		t.Fatalf("cid %s, want %s", res.Cid, want)
	}
	pins, err := c.Pins(context.Background())
	if err != nil || len(pins) != 1 || pins[0].Name != "greeting" || pins[0].Size != 11 {
		t.Fatalf("pins %+v, %v", pins, err)
	}
}

func TestFolderAddLsGet(t *testing.T) {
	_, c := startNode(t)
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "album")
	want := map[string]string{
		"a.txt":         "alpha",
		"sub/b.txt":     "bravo",
		"sub/deep/c.md": strings.Repeat("c", 5000),
		"empty.txt":     "",
	}
	for name, body := range want {
		p := filepath.Join(src, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(body), 0o644)
	}
	os.MkdirAll(filepath.Join(src, "nothing-here"), 0o755)
	if _, err := c.AddPath(ctx, src, false, api.AddOptions{}, nil); !errors.Is(err, api.ErrInvalid) {
		t.Fatalf("adding a folder without -r: %v", err)
	}
	res, err := c.AddPath(ctx, src, true, api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := c.Ls(ctx, res.Cid)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name+":"+e.Type)
	}
	if got := strings.Join(names, ","); got != "a.txt:file,empty.txt:file,nothing-here:dir,sub:dir" {
		t.Fatalf("ls: %s", got)
	}
	out := filepath.Join(t.TempDir(), "copy")
	if _, err := c.Get(ctx, res.Cid, out, nil); err != nil {
		t.Fatal(err)
	}
	for name, body := range want {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil || string(b) != body {
			t.Fatalf("%s after get: %q, %v", name, b, err)
		}
	}
	if st, err := os.Stat(filepath.Join(out, "nothing-here")); err != nil || !st.IsDir() {
		t.Fatalf("empty folder lost: %v", err)
	}
}

func TestPinRmGCRemovesBlocks(t *testing.T) {
	_, c := startNode(t)
	ctx := context.Background()
	keep := addBytes(t, c, "keep", 2<<20)
	drop := addBytes(t, c, "drop", 3<<20)
	if err := c.PinRm(ctx, drop); err != nil {
		t.Fatal(err)
	}
	if err := c.PinRm(ctx, drop); classifyKind(err) != api.KindNotFound {
		t.Fatalf("second unpin: %v", err)
	}
	res, err := c.GC(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Removed != 4 { // 3 leaves + the root
		t.Fatalf("gc removed %d blocks, want 4", res.Removed)
	}
	// Even garbage in Badger's head value-log file must leave the disk.
	if res.DiskAfter > res.DiskBefore-(3<<20)*8/10 {
		t.Fatalf("repo on disk went from %d to %d bytes after collecting 3 MiB", res.DiskBefore, res.DiskAfter)
	}
	if _, err := c.Stat(ctx, drop); classifyKind(err) != api.KindNotFound {
		t.Fatalf("stat of collected content: %v", err)
	}
	if _, err := c.Stat(ctx, keep); err != nil {
		t.Fatalf("pinned content lost: %v", err)
	}
	v, err := c.Verify(ctx, nil)
	if err != nil || len(v.Bad) != 0 || v.Checked != 3 {
		t.Fatalf("verify %+v %v", v, err)
	}
}

func TestExportImportCAR(t *testing.T) {
	_, a := startNode(t)
	_, b := startNode(t)
	ctx := context.Background()
	root := addBytes(t, a, "car", 2<<20+7)
	var car bytes.Buffer
	if _, err := a.Export(ctx, root, &car); err != nil {
		t.Fatal(err)
	}
	res, err := b.Import(ctx, bytes.NewReader(car.Bytes()), api.ImportOptions{Name: "car.car"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Roots) != 1 || res.Roots[0] != root || res.Blocks != 4 {
		t.Fatalf("import %+v", res)
	}
	pins, _ := b.Pins(ctx)
	if len(pins) != 1 || pins[0].Cid != root || pins[0].Name != "car" {
		t.Fatalf("imported root not pinned as \"car\", the CAR's name: %+v", pins)
	}
	// A CAR whose block bytes were changed must be refused.
	bad := car.Bytes()
	bad[len(bad)-10] ^= 0xff
	if _, err := b.Import(ctx, bytes.NewReader(bad), api.ImportOptions{}, nil); err == nil {
		t.Fatal("tampered CAR imported")
	}
}

// TestImportNamesPins: without a CAR name (a CAR from stdin), a folder
// root is pinned under its first entry's name; importing it again under
// a CAR name leaves a name it already has.
func TestImportNamesPins(t *testing.T) {
	_, a := startNode(t)
	_, b := startNode(t)
	ctx := context.Background()
	folder := files.NewMapDirectory(map[string]files.Node{
		"sunset.jpg": files.NewBytesFile([]byte("orange")),
		"beach.jpg":  files.NewBytesFile([]byte("sand")),
	})
	added, err := a.Add(ctx, "album", folder, 0, api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var car bytes.Buffer
	if _, err := a.Export(ctx, added.Cid, &car); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"", "other.car"} {
		if _, err := b.Import(ctx, bytes.NewReader(car.Bytes()), api.ImportOptions{Name: name}, nil); err != nil {
			t.Fatalf("import named %q: %v", name, err)
		}
		pins, err := b.Pins(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(pins) != 1 || pins[0].Cid != added.Cid || pins[0].Name != "beach.jpg" {
			t.Fatalf("after the import named %q, pins are %+v, want %s named after its first entry, beach.jpg", name, pins, added.Cid)
		}
	}
}

func TestSecondNodeOnSameRepoIsRefused(t *testing.T) {
	n, _ := startNode(t)
	_, err := New(Options{Repo: n.repo.dir, APIAddress: "127.0.0.1:0"})
	if !errors.Is(err, ErrRepoLocked) {
		t.Fatalf("second node on the repo: %v", err)
	}
}

func TestBadInputs(t *testing.T) {
	_, c := startNode(t)
	ctx := context.Background()
	unknown := "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
	tests := []struct {
		name string
		call func() error
		want api.Kind
	}{
		{"stat unknown", func() error { _, err := c.Stat(ctx, unknown); return err }, api.KindNotFound},
		{"cat unknown", func() error { _, err := c.Cat(ctx, unknown, 0, -1); return err }, api.KindNotFound},
		{"bad cid", func() error { _, err := c.Stat(ctx, "not-a-cid"); return err }, api.KindInvalid},
		{"pin unknown", func() error { _, err := c.PinAdd(ctx, unknown, api.PinOptions{}, nil); return err }, api.KindNotFound},
		{"get relative", func() error { _, err := c.Get(ctx, unknown, "rel/path", nil); return err }, api.KindInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := classifyKind(tt.call()); got != tt.want {
				t.Fatalf("kind %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAPIRejectsForeignRequests(t *testing.T) {
	n, _ := startNode(t)
	ctx := context.Background()
	wrong := client.New(n.APIAddr(), strings.Repeat("0", 64))
	if _, err := wrong.ID(ctx); classifyKind(err) != api.KindPermission {
		t.Fatalf("wrong token: %v", err)
	}
}

func addBytes(t *testing.T, c *client.Client, name string, size int) string {
	t.Helper()
	data := make([]byte, size)
	rand.Read(data)
	res, err := c.Add(context.Background(), name, files.NewBytesFile(data), int64(size), api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res.Cid
}

func classifyKind(err error) api.Kind {
	var ae *api.Error
	if errors.As(err, &ae) {
		return ae.Kind
	}
	return ""
}

// TestImportPinsOnlyCompleteRoots: a CAR that names roots without their
// blocks pins nothing (and announces nothing) unless partial DAGs are
// allowed, and repo verify reports a pin whose blocks are missing.
func TestImportPinsOnlyCompleteRoots(t *testing.T) {
	n, b := startNode(t)
	ctx := context.Background()
	sum, _ := mh.Sum([]byte("a root nobody has"), mh.SHA2_256, -1)
	ghost := cid.NewCidV1(cid.DagProtobuf, sum)
	var car bytes.Buffer
	w, err := carstorage.NewWritable(&car, []cid.Cid{ghost}, carv2.WriteAsCarV1(true))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Finalize(); err != nil {
		t.Fatal(err)
	}
	res, err := b.Import(ctx, bytes.NewReader(car.Bytes()), api.ImportOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Roots) != 0 || len(res.Incomplete) != 1 || res.Incomplete[0] != ghost.String() {
		t.Fatalf("import of a root without blocks: %+v", res)
	}
	if pins, _ := b.Pins(ctx); len(pins) != 0 {
		t.Fatalf("an empty root was pinned: %+v", pins)
	}
	res, err = b.Import(ctx, bytes.NewReader(car.Bytes()), api.ImportOptions{AllowPartial: true}, nil)
	if err != nil || len(res.Roots) != 1 {
		t.Fatalf("import --allow-partial: %+v, %v", res, err)
	}
	v, err := n.Verify(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Incomplete) != 1 || v.Incomplete[0] != ghost.String() {
		t.Fatalf("verify does not report the pin that points at nothing: %+v", v)
	}
}

// TestAddPathMissing: a path the daemon cannot find is "not found" (so
// a client whose files the daemon cannot see streams them instead), said
// without the system call's name.
func TestAddPathMissing(t *testing.T) {
	n, _ := startNode(t)
	missing := filepath.Join(t.TempDir(), "gone.txt")
	_, err := n.AddPaths(context.Background(), []string{missing}, api.AddOptions{}, nil)
	if api.KindOf(err) != api.KindNotFound || strings.Contains(err.Error(), "lstat") || !strings.Contains(err.Error(), missing) {
		t.Fatalf("add of a missing path: %v (kind %s), want not_found naming the path", err, api.KindOf(err))
	}
}

// TestGetChecksTheOutputFolder: get refuses an output whose folder does
// not exist or is a file before it fetches anything (the CID is one no
// peer has: a fetch would fail differently).
func TestGetChecksTheOutputFolder(t *testing.T) {
	_, c := startNode(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, []byte("x"), 0o644)
	unknown := blocks.NewBlock([]byte("no peer has this")).Cid().String()
	for _, tc := range []struct{ out, want string }{
		{filepath.Join(dir, "nope", "out"), "the folder " + filepath.Join(dir, "nope") + " does not exist"},
		{filepath.Join(file, "out"), file + " is not a folder"},
	} {
		_, err := c.Get(context.Background(), unknown, tc.out, nil)
		if api.KindOf(err) != api.KindInvalid || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("get to %s: %v, want an invalid request saying %q", tc.out, err, tc.want)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("the check left files behind: %v", entries)
	}
}

// TestReadsOfAbsentContent: stat, ls and cat of content the repo lacks
// say so once, in the user's terms, are of kind not_found, and match
// blockstore.ErrNotFound (BrowseStat and BrowseLs then ask peers); cat
// and ls say why no peer gave it.
func TestReadsOfAbsentContent(t *testing.T) {
	n, _ := startNode(t)
	ctx := context.Background()
	c := blocks.NewBlock([]byte("not here")).Cid()
	_, statErr := n.Stat(ctx, c)
	_, lsErr := n.Ls(ctx, c)
	_, catErr := n.Cat(ctx, c, 0, -1)
	for what, err := range map[string]error{"stat": statErr, "ls": lsErr, "cat": catErr} {
		if !errors.Is(err, blockstore.ErrNotFound) || api.KindOf(err) != api.KindNotFound ||
			strings.Count(err.Error(), c.String()) != 1 || !strings.Contains(err.Error(), "is not in this repo") {
			t.Errorf("%s of absent content: %v (kind %s)", what, err, api.KindOf(err))
		}
	}
	// cat and ls, which ask peers, say why none gave it (here: none is
	// connected), as a get does.
	for what, err := range map[string]error{"ls": lsErr, "cat": catErr} {
		if !strings.Contains(err.Error(), "no peer gave it. No peers at all") {
			t.Errorf("%s of absent content does not say why no peer gave it: %v", what, err)
		}
	}
}
