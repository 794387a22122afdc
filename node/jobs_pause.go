package node

import (
	"fmt"
	"time"

	"github.com/kith-p2p/kith/web/api"
)

// pauseWait bounds how long PauseJob waits for the fetch to stop before it
// answers (a fetch waiting for gc to release the pin lock stops only then).
const pauseWait = 10 * time.Second

func (r *jobRegistry) cancelJob(id string) (api.Job, error) {
	r.mu.Lock()
	j, err := r.findLocked(id)
	if err != nil {
		r.mu.Unlock()
		return api.Job{}, err
	}
	switch j.State {
	case api.JobRunning:
		if j.cancel != nil {
			j.canceled = true
			j.cancel()
		}
	case api.JobPaused:
		// No run reports the end of a paused job: record it here.
		now := time.Now().UTC()
		j.State, j.Finished, j.canceled, j.unfinished = api.JobCanceled, &now, true, false
		j.releaseIfEnded()
		snap := j.Job
		r.mu.Unlock()
		r.notify(snap)
		r.persist()
		return snap, nil
	}
	snap := j.Job
	r.mu.Unlock()
	return snap, nil
}

// pauseJob stops a running job's fetch. The job is paused at once (later
// progress of the stopping run is ignored); the answer waits, up to
// pauseWait, until the run has returned, so a client that reads "paused"
// knows no more blocks arrive for it. If the fetch completed just then,
// the job is done and says so.
func (r *jobRegistry) pauseJob(id string) (api.Job, error) {
	r.mu.Lock()
	j, err := r.findLocked(id)
	if err == nil && j.State != api.JobRunning {
		err = conflict(j, "only a running transfer can be paused")
	}
	if err != nil {
		r.mu.Unlock()
		return api.Job{}, err
	}
	j.State = api.JobPaused
	j.Rate, j.Peers, j.Phase = 0, 0, ""
	if j.cancel != nil {
		j.cancel()
	}
	done := j.done
	snap := j.Job
	r.mu.Unlock()
	r.notify(snap)
	r.persist()
	timer := time.NewTimer(pauseWait)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return j.Job, nil
}

// resumeJob starts a paused job's fetch again; the fetch walks what is
// here first, so only the missing blocks are asked for.
func (r *jobRegistry) resumeJob(id string) (api.Job, error) {
	if err := r.n.ctx.Err(); err != nil {
		return api.Job{}, fmt.Errorf("resume job %s: the daemon is stopping: %w", id, api.ErrUnavailable)
	}
	r.mu.Lock()
	j, err := r.findLocked(id)
	if err == nil && j.State != api.JobPaused {
		err = conflict(j, "only a paused transfer can be resumed")
	}
	if err != nil {
		r.mu.Unlock()
		return api.Job{}, err
	}
	launch := r.resumeLocked(j)
	snap := j.Job
	r.mu.Unlock()
	r.notify(snap)
	r.persist()
	launch()
	return snap, nil
}

// resumeLocked makes paused j running again and returns the func that
// starts its run (see launchLocked).
func (r *jobRegistry) resumeLocked(j *job) func() {
	j.State, j.Phase = api.JobRunning, "searching"
	j.Error, j.Reason, j.Finished, j.canceled = "", "", nil, false
	j.Rate, j.Peers = 0, 0
	return r.launchLocked(j, false)
}

// addPaused lists a job the journal kept paused, as it was: it runs when
// resumed.
func (r *jobRegistry) addPaused(e journalEntry) {
	c, err := e.cid()
	if err != nil {
		r.n.log.Warn("skipping a paused background job from before the restart", "cid", e.Cid, "err", err)
		return
	}
	r.mu.Lock()
	j := r.newJobLocked(c, e.Name, &e)
	j.State = api.JobPaused
	j.Bytes, j.Total, j.Have = e.Bytes, e.Total, e.Have
	snap := j.Job
	r.mu.Unlock()
	r.notify(snap)
}

// findLocked returns the job called id.
func (r *jobRegistry) findLocked(id string) (*job, error) {
	j, ok := r.jobs[id]
	if !ok {
		return nil, &api.Error{Kind: api.KindNotFound, Message: fmt.Sprintf("no job %q: it may have finished over an hour ago", id)}
	}
	return j, nil
}

// conflict says why j cannot do what was asked, in its present state.
func conflict(j *job, rule string) error {
	what := j.Cid
	if j.Name != "" {
		what = fmt.Sprintf("%q", j.Name)
	}
	state := map[string]string{
		api.JobRunning:  "is running",
		api.JobPaused:   "is paused",
		api.JobDone:     "has finished",
		api.JobFailed:   "has failed",
		api.JobCanceled: "was cancelled",
	}[j.State]
	msg := fmt.Sprintf("the transfer of %s %s: %s", what, state, rule)
	if j.State == api.JobFailed || j.State == api.JobCanceled {
		msg += " (get it again to start over)"
	}
	return &api.Error{Kind: api.KindConflict, Message: msg}
}
