package dag

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/go-cid"
	"github.com/miekg/dns"

	"github.com/kith-p2p/kith/blockstore"
)

var (
	// ErrBadPath is returned (wrapped) by SplitPath for a path it refuses.
	ErrBadPath = errors.New("is not a CID, a ticket or a path under one")
	// ErrNoEntry is returned (wrapped) by Resolve for a name a folder does
	// not hold.
	ErrNoEntry = errors.New("no such file or folder")
)

// NamePrefix starts the root SplitPath returns for a name: an IPNS name
// or a DNSLink domain, whose content the caller looks up.
const NamePrefix = "/ipns/"

// SplitPath reads a content path as people write and paste it: ROOT,
// ROOT/a/b, /ipfs/ROOT/a/b or ipfs://ROOT/a/b, where ROOT is a CID (or a
// share ticket: the caller reads it). It returns ROOT and the names under
// it, none for ROOT alone. Empty names (a doubled or trailing slash) are
// dropped; "." and ".." are refused: a path goes down a folder, never up.
//
// A name, /ipns/NAME/a/b or ipns://NAME/a/b (NAME an IPNS name or a
// domain with a DNSLink record), gives the root /ipns/NAME (NamePrefix
// and NAME: see IsName): the caller resolves it. A gateway's URL
// (https://ipfs.io/ipfs/CID/a, https://CID.ipfs.dweb.link/a, and their
// /ipns/ forms) is read as the path in it (fromGatewayURL).
func SplitPath(path string) (root string, names []string, err error) {
	s := strings.TrimSpace(path)
	if p, ok, err := fromGatewayURL(s); ok {
		if err != nil {
			return "", nil, err
		}
		s = p
	}
	var name bool
	switch {
	case strings.HasPrefix(s, "/ipfs/"):
		s = s[len("/ipfs/"):]
	case strings.HasPrefix(s, "ipfs://"):
		s = s[len("ipfs://"):]
	case strings.HasPrefix(s, NamePrefix):
		s, name = s[len(NamePrefix):], true
	case strings.HasPrefix(s, "ipns://"):
		s, name = s[len("ipns://"):], true
	}
	parts := strings.Split(s, "/")
	root = parts[0]
	if root == "" {
		return "", nil, fmt.Errorf("%q %w", path, ErrBadPath)
	}
	if name {
		root = NamePrefix + root
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

// IsName reports whether root (as SplitPath returns it) is a name rather
// than a CID or a ticket, and returns the name (without NamePrefix).
func IsName(root string) (string, bool) {
	return strings.CutPrefix(root, NamePrefix)
}

// ErrBadName is returned (wrapped) by CheckIPNSName for what is no name.
var ErrBadName = errors.New("is neither an IPNS name (k51... or 12D3KooW...) nor a domain name (for its DNSLink record)")

// CheckIPNSName reports whether name (IsName's) is an IPNS name, the
// multihash of a key as a peer ID or a libp2p-key CID, or else a domain,
// whose DNSLink record says what it points to (domain true).
func CheckIPNSName(name string) (domain bool, err error) {
	if _, err := ipns.NameFromString(name); err == nil {
		return false, nil
	}
	if _, ok := dns.IsDomainName(name); ok && strings.Contains(strings.Trim(name, "."), ".") {
		return true, nil
	}
	if len(name) > 64 {
		name = name[:61] + "..."
	}
	return false, fmt.Errorf("%q %w", name, ErrBadName)
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
