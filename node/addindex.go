package node

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore/dag"
	"github.com/kith-p2p/kith/node/atomicfile"
)

// addsFile, in the repo, remembers the paths the daemon added by reading
// them itself.
const addsFile = "adds.json"

// maxAddedPaths bounds the paths remembered: the most recently added stay.
const maxAddedPaths = 256

// addIndex remembers, for each path the daemon added by reading it itself,
// the version that add made and when it started reading, so that adding
// the same path again (kith add, kith share of a folder that changed, a
// watched folder's re-share) reads only the files that changed since
// (dag.Reuse). What it remembers is a hint: a version whose blocks are no
// longer in the store is simply not reused.
type addIndex struct {
	file string
	log  *slog.Logger

	mu     sync.Mutex
	loaded bool
	paths  map[string]addedPath
}

// addedPath is one remembered add.
type addedPath struct {
	Cid   string    `json:"cid"`
	Since time.Time `json:"since"` // when the add started reading
	// Unread counts the files the add left out, not able to read them
	// (AddOptions.SkipUnreadable): a watch of the folder starting from
	// this version looks at it again at once (leftOut).
	Unread int `json:"unread,omitempty"`
}

func newAddIndex(repoDir string, log *slog.Logger) *addIndex {
	return &addIndex{file: filepath.Join(repoDir, addsFile), log: log}
}

// loadLocked reads the file once; a missing or damaged file is an empty
// index (it is only a hint).
func (x *addIndex) loadLocked() {
	if x.loaded {
		return
	}
	x.loaded = true
	x.paths = map[string]addedPath{}
	b, err := os.ReadFile(x.file)
	if err != nil {
		return
	}
	if err := json.Unmarshal(b, &x.paths); err != nil {
		x.log.Warn("the remembered adds are damaged; starting afresh", "file", x.file, "err", err)
		x.paths = map[string]addedPath{}
	}
}

// reuse is the import option that reuses the last add of path, if any.
func (x *addIndex) reuse(path string) (dag.ImportOption, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.loadLocked()
	a, ok := x.paths[path]
	if !ok {
		return nil, false
	}
	c, err := cid.Decode(a.Cid)
	if err != nil {
		return nil, false
	}
	return dag.WithReuse(dag.Reuse{Prev: c, Since: a.Since}), true
}

// pathOf is the path whose last add made c (the latest such add), if the
// daemon remembers one.
func (x *addIndex) pathOf(c cid.Cid) (string, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.loadLocked()
	best, found := "", false
	for p, a := range x.paths {
		if a.Cid == c.String() && (!found || a.Since.After(x.paths[best].Since)) {
			best, found = p, true
		}
	}
	return best, found
}

// record remembers that the add of path that started at since made c,
// leaving out unread files it could not read.
func (x *addIndex) record(path string, c cid.Cid, since time.Time, unread int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.loadLocked()
	x.paths[path] = addedPath{Cid: c.String(), Since: since, Unread: unread}
	x.saveLocked(path)
}

// leftOut says how many files the last add of path left out, not able
// to read them, if that add made c.
func (x *addIndex) leftOut(path string, c string) int {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.loadLocked()
	if a, ok := x.paths[path]; ok && a.Cid == c {
		return a.Unread
	}
	return 0
}

// forget forgets the add of path: its version does not hold the files as
// they were when it started (dag.WithUnreadable linked some from the one
// before), and the next add reads them.
func (x *addIndex) forget(path string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.loadLocked()
	if _, ok := x.paths[path]; ok {
		delete(x.paths, path)
		x.saveLocked(path)
	}
}

// saveLocked writes the paths remembered, the most recent maxAddedPaths,
// after a change to path's.
func (x *addIndex) saveLocked(path string) {
	if len(x.paths) > maxAddedPaths {
		// Forget the oldest adds.
		keys := make([]string, 0, len(x.paths))
		for k := range x.paths {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return x.paths[keys[i]].Since.Before(x.paths[keys[j]].Since) })
		for _, k := range keys[:len(keys)-maxAddedPaths] {
			delete(x.paths, k)
		}
	}
	b, err := json.MarshalIndent(x.paths, "", "  ")
	if err == nil {
		err = atomicfile.Write(x.file, append(b, '\n'), 0o600)
	}
	if err != nil {
		x.log.Warn("remember an add", "path", path, "err", err)
	}
}
