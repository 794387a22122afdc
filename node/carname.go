package node

import (
	"fmt"
	"path"
	"strings"

	"github.com/kith-p2p/kith/blockstore"
)

// carPinName names the i-th of n roots a CAR import pins: after the CAR
// file (car, its base name as the client read it; a trailing .car goes),
// numbered when the CAR has several roots, or else after first, the name
// of the root's first entry when the root is a folder. Anything else stays
// unnamed, as before.
func carPinName(car string, i, n int, first string) string {
	name := strings.TrimSpace(path.Base(strings.ReplaceAll(car, `\`, "/")))
	if name == "." || name == "/" {
		name = ""
	}
	if ext := path.Ext(name); strings.EqualFold(ext, ".car") && len(name) > len(ext) {
		name = name[:len(name)-len(ext)]
	}
	if name == "" {
		return first
	}
	if n > 1 {
		return fmt.Sprintf("%s (%d of %d)", name, i+1, n)
	}
	return name
}

// importedPinName is the name a CAR import gives a root already pinned
// (others: every owner's records on it): a name the user gave stays; a
// copy a group keeps here gets the user's pin too (as pin add does), named
// after the CAR or else after the share.
func importedPinName(others []blockstore.Pin, name string) string {
	if old, ok := userPin(others); ok && old.Name != "" {
		return old.Name
	}
	if name != "" {
		return name
	}
	if g, ok := groupPin(others); ok {
		return g.Name
	}
	return name
}
