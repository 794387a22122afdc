package dag

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
)

var (
	// ErrBadPath is returned (wrapped) by SplitPath for a path it refuses.
	ErrBadPath = errors.New("is not a CID, a ticket or a path under one")
	// ErrNoEntry is returned (wrapped) by Resolve for a name a folder does
	// not hold.
	ErrNoEntry = errors.New("no such file or folder")
)

// SplitPath reads a content path as people write and paste it: ROOT,
// ROOT/a/b, /ipfs/ROOT/a/b or ipfs://ROOT/a/b, where ROOT is a CID (or a
// share ticket: the caller reads it). It returns ROOT and the names under
// it, none for ROOT alone. Empty names (a doubled or trailing slash) are
// dropped; "." and ".." are refused: a path goes down a folder, never up.
func SplitPath(path string) (root string, names []string, err error) {
	s := strings.TrimSpace(path)
	switch {
	case strings.HasPrefix(s, "/ipfs/"):
		s = s[len("/ipfs/"):]
	case strings.HasPrefix(s, "ipfs://"):
		s = s[len("ipfs://"):]
	}
	parts := strings.Split(s, "/")
	root = parts[0]
	if root == "" {
		return "", nil, fmt.Errorf("%q %w", path, ErrBadPath)
	}
	for _, p := range parts[1:] {
		switch p {
		case "":
			continue
		case ".", "..":
			return "", nil, fmt.Errorf("%q %w (a path goes down from its CID, with no . or ..)", path, ErrBadPath)
		}
		names = append(names, p)
	}
	return root, names, nil
}

// Resolve returns the CID that names lead to from the folder at root,
// reading through bs each folder on the way (a HAMT-sharded one only
// along the name's shards) and the entry found. A file or a symbolic link
// on the way is ErrNotDir or ErrIsSymlink (links inside content are not
// followed), a missing name ErrNoEntry, each wrapped with the path so far.
func Resolve(ctx context.Context, bs blockstore.Blockstore, root cid.Cid, names []string) (cid.Cid, error) {
	rd := readDAG{bs}
	cur, at := root, root.String()
	for _, name := range names {
		nd, err := rd.Get(ctx, cur)
		if err != nil {
			return cid.Undef, err
		}
		// Said of the path, not of a CID the user never saw.
		switch typ, _, err := nodeInfo(nd); {
		case err != nil:
			return cid.Undef, fmt.Errorf("%s: %w", at, err)
		case typ == TypeSymlink:
			return cid.Undef, fmt.Errorf("%s %w (to %s), which kith does not follow", at, ErrIsSymlink, linkTarget(nd))
		case typ == TypeFile:
			return cid.Undef, fmt.Errorf("%s %w", at, ErrNotDir)
		}
		dir, err := dirFromNode(rd, nd)
		if err != nil {
			return cid.Undef, err
		}
		child, err := dir.Find(ctx, name)
		if errors.Is(err, os.ErrNotExist) {
			return cid.Undef, noEntry{at, name}
		}
		if err != nil {
			return cid.Undef, fmt.Errorf("%s/%s: %w", at, name, err)
		}
		cur, at = child.Cid(), at+"/"+name
	}
	return cur, nil
}

// noEntry is ErrNoEntry said of one folder and name.
type noEntry struct{ at, name string }

func (e noEntry) Error() string        { return fmt.Sprintf("%s holds no %q", e.at, e.name) }
func (e noEntry) Is(target error) bool { return target == ErrNoEntry }
