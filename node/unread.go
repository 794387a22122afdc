package node

import (
	"fmt"
	"path/filepath"

	"github.com/kith-p2p/kith/blockstore/dag"
	"github.com/kith-p2p/kith/web/api"
)

// unreadFiles gathers the files an add could not read (no permission,
// held by another program; folders it may not list): a watched folder's
// shares them as they were before or leaves them out while new
// (dag.WithUnreadable), a first share leaves each out
// (dag.WithUnreadableLeftOut, AddOptions.SkipUnreadable).
type unreadFiles struct {
	paths []string     // all, slash paths from the folder's top
	named []unreadFile // the first maxUnreadNamed
	count int
}

// unreadFile is one file an add could not read: where, why, and whether
// it was linked as the version before had it.
type unreadFile struct {
	api.UnreadableFile
	asBefore bool
}

// maxUnreadNamed bounds unreadFiles.named, as api.SkippedOf bounds the
// special files named.
const maxUnreadNamed = 20

// maxUnreadSaid is how many of them a watch's error names.
const maxUnreadSaid = 5

// report is the import's report of one (dag.WithUnreadable's).
func (u *unreadFiles) report(where string, err error, asBefore bool) {
	u.count++
	u.paths = append(u.paths, where)
	if len(u.named) < maxUnreadNamed {
		u.named = append(u.named, unreadFile{api.UnreadableFile{Path: where, Reason: api.PathReason(err).Error()}, asBefore})
	}
}

// option is dag.WithUnreadable reporting to u.
func (u *unreadFiles) option() dag.ImportOption { return dag.WithUnreadable(u.report) }

// files names them for AddResult.Unreadable.
func (u *unreadFiles) files() []api.UnreadableFile {
	var out []api.UnreadableFile
	for _, f := range u.named {
		out = append(out, f.UnreadableFile)
	}
	return out
}

// sentences names the first few, each with why and what became of it,
// for watch.Shared.Unread.
func (u *unreadFiles) sentences() []string {
	var out []string
	for _, f := range u.named[:min(len(u.named), maxUnreadSaid)] {
		what := "left out while new"
		if f.asBefore {
			what = "shared as it was before"
		}
		out = append(out, fmt.Sprintf("%s (%s: %s)", f.Path, f.Reason, what))
	}
	return out
}

// forgetAdd has the daemon forget the add of path when it could not read
// some files: its version links them as they were before, which a later
// add must not take as what the files hold now (addIndex).
func (u *unreadFiles) forgetAdd(n *Node, path string) {
	if u.count > 0 {
		n.adds.forget(filepath.Clean(path))
	}
}
