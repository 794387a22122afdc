// Package recent keeps what updates changed in a folder, newest first, as
// Syncthing's "recent changes": what a followed folder's updates wrote in
// (node/mirror) and what a watched folder's shares sent out (node/watch)
// are listed in one vocabulary.
package recent

import "time"

// Change is one thing an update did in a folder: What (Written, ...) to
// Path (slash separated, from the folder's top; a folder's ends in /).
// Version and At are the version the update wrote in or shared, and when;
// By, of a change written in, is the peer ID of the device that shared
// that version ("" when not known).
type Change struct {
	Path    string    `json:"path"`
	What    string    `json:"what"`
	Version string    `json:"version,omitempty"`
	At      time.Time `json:"at,omitzero"`
	By      string    `json:"by,omitempty"`
}

// What a Change did.
const (
	Written  = "written"  // a file or link, new or changed
	Removed  = "removed"  // gone from the version
	Moved    = "moved"    // moved or renamed to Path
	Conflict = "conflict" // a conflict copy: the other device's bytes
)

// Max bounds the changes a folder keeps, and those one update names.
const Max = 50

// Prepend is the list of recent changes once an update to the version v,
// shared by the device by, at, made changes (in the order it made them):
// those first, then the earlier ones, at most Max. An update that changed
// nothing leaves the list as it was.
func Prepend(changes []Change, v, by string, at time.Time, earlier []Change) []Change {
	if len(changes) == 0 {
		return earlier
	}
	out := make([]Change, 0, min(Max, len(changes)+len(earlier)))
	for _, ch := range changes {
		ch.Version, ch.By, ch.At = v, by, at
		out = append(out, ch)
	}
	out = append(out, earlier...)
	return out[:min(len(out), Max)]
}
