package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/web/api"
)

// jobsFile is the journal of unfinished background jobs, in the repo.
const jobsFile = "jobs.json"

// journalEntry is one unfinished job as the journal keeps it: enough to
// start it again under the same ID after a restart.
type journalEntry struct {
	ID      string    `json:"id"`
	Cid     string    `json:"cid"`
	Name    string    `json:"name,omitempty"`
	Started time.Time `json:"started"`
	// Paused jobs are listed paused after a restart, with the progress
	// they had; the others start again.
	Paused bool  `json:"paused,omitempty"`
	Bytes  int64 `json:"bytes,omitempty"`
	Total  int64 `json:"total,omitempty"`
	Have   int64 `json:"have,omitempty"`
}

func (e journalEntry) cid() (cid.Cid, error) { return cid.Decode(e.Cid) }

// journalFormat is the file's layout; the version lets a later kith read
// an older file or refuse a newer one.
type journalFormat struct {
	Version int            `json:"version"`
	Jobs    []journalEntry `json:"jobs"`
}

const journalVersion = 1

// jobJournal keeps the list of unfinished jobs on disk, so that jobs the
// daemon was running when it stopped (or crashed) start again with it. The
// whole list is rewritten on every change (a handful of entries), through a
// temporary file that is synced and renamed over the old one: a crash
// leaves either the old list or the new one, never half of either.
type jobJournal struct {
	path string
	// mu serialises writes: whoever holds it takes the registry's current
	// list and writes it, so the last write always has the latest list.
	mu sync.Mutex
}

func newJobJournal(repoDir string) *jobJournal {
	return &jobJournal{path: filepath.Join(repoDir, jobsFile)}
}

// load reads the journal; a missing file is an empty journal.
func (j *jobJournal) load() ([]journalEntry, error) {
	b, err := os.ReadFile(j.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read job journal %s: %w", j.path, err)
	}
	var f journalFormat
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("job journal %s is damaged: %w", j.path, err)
	}
	if f.Version != journalVersion {
		return nil, fmt.Errorf("job journal %s has version %d, this kith reads %d", j.path, f.Version, journalVersion)
	}
	return f.Jobs, nil
}

// save replaces the journal with the entries list returns; list is called
// with the journal's lock held, so concurrent saves write in order.
func (j *jobJournal) save(list func() []journalEntry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	entries := list()
	if entries == nil {
		entries = []journalEntry{}
	}
	b, err := json.MarshalIndent(journalFormat{Version: journalVersion, Jobs: entries}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode job journal: %w", err)
	}
	if err := writeFileAtomic(j.path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("save job journal: %w", err)
	}
	return syncDir(filepath.Dir(j.path))
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// resume reads the journal and starts again every job it lists that was
// not paused: those the daemon was running when it last stopped. They keep
// their IDs, wait for peers that have their content (the network is only
// starting) and fetch only the blocks not stored yet. Paused jobs are
// listed paused, under their IDs. Jobs started before resume are written
// to the journal with them.
func (r *jobRegistry) resume() {
	jr := newJobJournal(r.n.repo.dir)
	entries, err := jr.load()
	if err != nil {
		r.n.log.Warn("background jobs from before the restart are lost", "err", err)
	}
	running := 0
	for _, e := range entries {
		if e.Paused {
			r.addPaused(e)
			continue
		}
		c, err := e.cid()
		if err != nil {
			r.n.log.Warn("skipping a background job from before the restart", "cid", e.Cid, "err", err)
			continue
		}
		r.add(c, e.Name, &e)
		running++
	}
	r.mu.Lock()
	r.journal = jr
	r.mu.Unlock()
	r.persist()
	if running > 0 {
		r.n.log.Info("resumed background jobs from before the restart", "jobs", running)
	}
	if paused := len(entries) - running; paused > 0 {
		r.n.log.Info("background jobs paused before the restart stay paused", "jobs", paused)
	}
}

// persist writes the unfinished jobs to the journal. A failure costs only
// the resumption after a restart, so it is logged, not returned.
func (r *jobRegistry) persist() {
	r.mu.Lock()
	jr := r.journal
	r.mu.Unlock()
	if jr == nil {
		return
	}
	if err := jr.save(r.unfinished); err != nil {
		r.n.log.Warn("background jobs will not resume after a restart", "err", err)
	}
}

// unfinished lists the jobs the journal must keep, oldest first.
func (r *jobRegistry) unfinished() []journalEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []journalEntry
	for _, j := range r.jobs {
		if !j.unfinished {
			continue
		}
		e := journalEntry{ID: j.ID, Cid: j.Cid, Name: j.Name, Started: j.Started}
		if j.State == api.JobPaused {
			e.Paused, e.Bytes, e.Total, e.Have = true, j.Bytes, j.Total, j.Have
		}
		out = append(out, e)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Started.Before(out[b].Started) })
	return out
}
