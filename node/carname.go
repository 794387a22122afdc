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

// importedPinName is the name a CAR import gives a root already pinned as
// old: a name the user gave stays; a copy a group placed here becomes the
// user's pin (as pin add makes it), named after the CAR or else after the
// share.
func importedPinName(old blockstore.Pin, name string) string {
	switch {
	case isReplicaPin(old) && name != "":
		return name
	case isReplicaPin(old):
		return replicaShareName(old.Name)
	case old.Name != "":
		return old.Name
	}
	return name
}
