package node

import (
	"context"
	"os"
	"path/filepath"
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
