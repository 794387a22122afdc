package node

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kith-p2p/kith/web/api"
	"github.com/kith-p2p/kith/web/client"
)

// TestAddLeavesOutTheRepo: adding a folder that holds the daemon's repo
// (kith add -r ~, kith share ~) adds everything but the repo (its private
// key, API token and blocks); naming the repo, or a file in it, is
// refused with a sentence saying why.
func TestAddLeavesOutTheRepo(t *testing.T) {
	ctx := context.Background()
	home := t.TempDir()
	n := newNodeAt(t, filepath.Join(home, ".kith"), nil)
	c, err := client.FromRepo(n.repo.dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "notes.txt"), []byte("notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := c.AddPath(ctx, home, true, api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	es, err := c.Ls(ctx, res.Cid)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].Name != "notes.txt" {
		t.Errorf("the home folder added holds %+v, want notes.txt alone (the repo left out)", es)
	}

	for _, p := range []string{n.repo.dir, filepath.Join(n.repo.dir, "identity.key"), filepath.Join(n.repo.dir, "config.json")} {
		_, err := n.AddPaths(ctx, []string{p}, api.AddOptions{Recursive: true}, nil)
		if api.KindOf(err) != api.KindInvalid || !strings.Contains(err.Error(), "own repo") || !strings.Contains(err.Error(), "private key") {
			t.Errorf("add %s: %v (kind %s), want invalid, saying it is kith's repo", p, err, api.KindOf(err))
		}
		_, err = n.AddPaths(ctx, []string{filepath.Join(home, "notes.txt"), p}, api.AddOptions{Wrap: "both", Recursive: true}, nil)
		if api.KindOf(err) != api.KindInvalid {
			t.Errorf("add --wrap with %s: %v, want invalid", p, err)
		}
	}
}

// TestAddLeavesOutSockets: a socket in a folder (an ssh control socket,
// an editor's server) is left out of the add, which names it, and the
// folder's CID is the one it has without it; before, the add failed.
func TestAddLeavesOutSockets(t *testing.T) {
	ctx := context.Background()
	n := newNodeAt(t, t.TempDir(), nil)
	dir, err := os.MkdirTemp("", "kith-sock") // short: a socket path is limited to ~100 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.MkdirAll(filepath.Join(dir, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".ssh", "config"), []byte("Host *\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	without, err := n.AddPaths(ctx, []string{dir}, api.AddOptions{Recursive: true, NoPin: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, ".ssh", "cm-me@host:22")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Skipf("no unix sockets here: %v", err)
	}
	defer l.Close()

	res, err := n.AddPaths(ctx, []string{dir}, api.AddOptions{Recursive: true}, nil)
	if err != nil {
		t.Fatalf("add of a folder with a socket: %v", err)
	}
	if res.Cid != without.Cid {
		t.Errorf("CID %s, want %s (the folder without its socket)", res.Cid, without.Cid)
	}
	want := []api.SkippedFile{{Path: sock, Kind: "socket"}}
	if res.SkippedCount != 1 || !slices.Equal(res.Skipped, want) {
		t.Errorf("skipped %+v (%d), want %+v (1)", res.Skipped, res.SkippedCount, want)
	}
	// Named as the path itself, it is refused, saying what it is.
	_, err = n.AddPaths(ctx, []string{sock}, api.AddOptions{}, nil)
	if err == nil || !strings.Contains(err.Error(), "(a socket)") {
		t.Errorf("add of the socket itself: %v", err)
	}
}
