package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/web/api"
)

// fakeBackend implements what the web UI's routes need; any other Backend
// method panics through the nil embedded interface.
type fakeBackend struct {
	api.Backend

	mu       sync.Mutex
	jobs     []api.Job
	watchers map[int]func(api.Job)
	unpinned []string
	uploads  []api.Upload
	groupFns []func() // WatchGroups' watchers (never removed: one test each)
}

func (f *fakeBackend) WatchGroups(fn func()) func() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.groupFns = append(f.groupFns, fn)
	return func() {}
}

// groupsChanged tells the WatchGroups watchers.
func (f *fakeBackend) groupsChanged() {
	f.mu.Lock()
	fns := slices.Clone(f.groupFns)
	f.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

func (f *fakeBackend) Stats(context.Context) (api.Stats, error) {
	return api.Stats{TotalIn: 100, RateIn: 10, Peers: 2, DiskUsage: 4096}, nil
}

func (f *fakeBackend) StatsHistory() []api.Stats {
	return []api.Stats{{RateIn: 300 << 20, Time: time.Unix(1, 0).UTC()}, {RateIn: 0, Time: time.Unix(2, 0).UTC()}}
}

func (f *fakeBackend) PinRm(_ context.Context, c cid.Cid) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.unpinned = append(f.unpinned, c.String())
	return nil
}

func (f *fakeBackend) StartFetch(c cid.Cid, name string) (api.Job, error) {
	j := api.Job{ID: "job1", Cid: c.String(), Name: name, State: api.JobRunning}
	f.mu.Lock()
	f.jobs = append(f.jobs, j)
	f.mu.Unlock()
	f.report(j)
	return j, nil
}

func (f *fakeBackend) Jobs() []api.Job {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]api.Job{}, f.jobs...)
}

func (f *fakeBackend) CancelJob(id string) (api.Job, error) {
	return api.Job{}, &api.Error{Kind: api.KindNotFound, Message: "no job " + id}
}

// PauseJob and ResumeJob move a job between running and paused, and
// refuse as the node does (KindConflict) a job in any other state.
func (f *fakeBackend) PauseJob(id string) (api.Job, error) {
	return f.move(id, api.JobRunning, api.JobPaused, "only a running transfer can be paused")
}

func (f *fakeBackend) ResumeJob(id string) (api.Job, error) {
	return f.move(id, api.JobPaused, api.JobRunning, "only a paused transfer can be resumed")
}

func (f *fakeBackend) move(id, from, to, rule string) (api.Job, error) {
	f.mu.Lock()
	var j *api.Job
	for i := range f.jobs {
		if f.jobs[i].ID == id {
			j = &f.jobs[i]
		}
	}
	switch {
	case j == nil:
		f.mu.Unlock()
		return api.Job{}, &api.Error{Kind: api.KindNotFound, Message: "no job " + id}
	case j.State != from:
		f.mu.Unlock()
		return api.Job{}, &api.Error{Kind: api.KindConflict, Message: "the transfer is " + j.State + ": " + rule}
	}
	j.State = to
	snap := *j
	f.mu.Unlock()
	f.report(snap)
	return snap, nil
}

func (f *fakeBackend) Uploads(context.Context) ([]api.Upload, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]api.Upload{}, f.uploads...), nil
}

// setUploads replaces what Uploads reports.
func (f *fakeBackend) setUploads(us []api.Upload) {
	f.mu.Lock()
	f.uploads = us
	f.mu.Unlock()
}

func (f *fakeBackend) WatchJobs(fn func(api.Job)) func() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.watchers == nil {
		f.watchers = map[int]func(api.Job){}
	}
	id := len(f.watchers) + 1
	for f.watchers[id] != nil {
		id++
	}
	f.watchers[id] = fn
	return func() {
		f.mu.Lock()
		delete(f.watchers, id)
		f.mu.Unlock()
	}
}

// report tells watchers about a job, as the node does on progress.
func (f *fakeBackend) report(j api.Job) {
	f.mu.Lock()
	fns := make([]func(api.Job), 0, len(f.watchers))
	for _, fn := range f.watchers {
		fns = append(fns, fn)
	}
	f.mu.Unlock()
	for _, fn := range fns {
		fn(j)
	}
}

// startServer serves backend on a free loopback port until the test ends.
func startServer(t *testing.T, backend api.Backend) *Server {
	t.Helper()
	s, err := Listen("127.0.0.1:0", backend, "secret-token")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	t.Cleanup(func() {
		if err := s.Shutdown(context.Background()); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return s
}

// request sends a request to s with the given headers (token: the bearer token).
func request(t *testing.T, s *Server, method, path string, header http.Header) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+s.Addr()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func (f *fakeBackend) ResolveRef(_ context.Context, s string) (cid.Cid, error) {
	c, err := cid.Decode(s)
	if err != nil {
		return cid.Undef, fmt.Errorf("%q is not a CID: %w", s, api.ErrInvalid)
	}
	return c, nil
}
