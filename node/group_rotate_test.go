package node

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kith-p2p/kith/protocol/group"
	"github.com/kith-p2p/kith/web/api"
)

// groupKeys reads the secret and epoch keys a node keeps on disk for a
// group (the keyring holds only the secret when there is no keys file).
func groupKeys(t *testing.T, dir string, id group.GroupID) *group.Keyring {
	t.Helper()
	gdir := filepath.Join(dir, groupsDir, id.String())
	raw, err := os.ReadFile(filepath.Join(gdir, "secret"))
	if err != nil {
		t.Fatal(err)
	}
	var sec group.Secret
	copy(sec[:], raw)
	b, err := os.ReadFile(filepath.Join(gdir, keysFile))
	if errors.Is(err, os.ErrNotExist) {
		return group.NewKeyring(sec)
	}
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(gdir, keysFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("keys file: %v, %v", fi, err)
	}
	ring, err := group.UnmarshalKeyring(sec, b)
	if err != nil {
		t.Fatal(err)
	}
	return ring
}

// TestGroupRemovalRotatesKey: a laptop is removed while it is offline.
// The remover makes a new key epoch; the other members get its key and
// keep it on disk; a member that joins afterwards gets it with the
// invite. A share made after the removal reaches every one of them and
// never the removed laptop, whose keys cannot open what the new epoch
// seals.
func TestGroupRemovalRotatesKey(t *testing.T) {
	ctx := context.Background()
	dirs := []string{t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()}
	nodes := make([]*Node, len(dirs))
	for i := range nodes {
		nodes[i] = groupNode(t, dirs[i], 1<<30)
	}
	formGroup(t, nodes, "family")
	id := groupOf(t, nodes[0], "family").id
	lost := nodes[3]
	lostID := lost.host.ID().String()
	lost.Close()
	nodes = nodes[:3]

	if _, err := nodes[0].GroupRemove(ctx, "family", lostID); err != nil {
		t.Fatal(err)
	}
	// On disk when the removal returns: the remover may be the key's only
	// holder until it reaches another member.
	ring0 := groupKeys(t, dirs[0], id)
	refs := ring0.Refs()
	if len(refs) != 1 || refs[0].N != 1 {
		t.Fatalf("the remover keeps epochs %v, want 1", refs)
	}
	ref := refs[0]
	for i, n := range nodes {
		waitFor(t, 30*time.Second, "every member to hold the new key on disk", func() bool {
			r, held := groupOf(t, n, "family").net.Epoch()
			if r != ref || !held {
				return false
			}
			_, onDisk := groupKeys(t, dirs[i], id).Key(ref)
			return onDisk
		})
	}
	// A device that joins after the removal gets the key with the invite.
	inv, err := nodes[1].GroupInvite(ctx, "family", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	late := groupNode(t, t.TempDir(), 1<<30)
	if _, err := late.GroupJoin(ctx, inv.Token); err != nil {
		t.Fatal(err)
	}
	if r, held := groupOf(t, late, "family").net.Epoch(); r != ref || !held {
		t.Fatalf("the joiner is in epoch %s (key held: %v) once joined, want %s", r, held, ref)
	}
	nodes = append(nodes, late)

	root := addData(t, nodes[1], randomData(100<<10))
	if _, err := nodes[1].GroupShare(ctx, "family", root, api.ShareOptions{Copies: 4}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "4 holders among the current members", func() bool {
		c, _ := countHolders(t, nodes, root)
		return c == 4
	})

	// The lost laptop's disk: no key of the new epoch, and the keys it has
	// cannot open a payload of the new epoch.
	lostRing := groupKeys(t, dirs[3], id)
	if _, ok := lostRing.Key(ref); ok || len(lostRing.Refs()) != 0 {
		t.Fatalf("the removed device holds epochs %v", lostRing.Refs())
	}
	newKey, _ := ring0.Key(ref)
	sealed := group.NewEpochKeys(id, newKey).Seal(nodes[1].host.ID(), []byte("a share made after the removal"))
	old, _ := lostRing.Key(group.EpochRef{})
	if _, err := group.NewEpochKeys(id, old).Open(nodes[1].host.ID(), sealed); !errors.Is(err, group.ErrAuth) {
		t.Fatalf("the removed device's key opened a new payload: %v", err)
	}

	// It comes back: it learns it was removed, and the share never
	// reaches its store.
	lost = groupNode(t, dirs[3], 1<<30)
	waitFor(t, 30*time.Second, "the removed device to learn it", func() bool {
		gs, err := lost.Groups(ctx)
		return err == nil && len(gs) == 1 && gs[0].Removed != ""
	})
	if has, err := lost.store.Has(ctx, root); err != nil || has {
		t.Fatalf("the share made after the removal is in the removed device's store (%v)", err)
	}
	if _, err := os.Stat(filepath.Join(dirs[3], groupsDir, id.String(), keysFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the removed device kept a keys file: %v", err)
	}
}
