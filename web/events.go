package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kith-p2p/kith/web/api"
)

// statsInterval is how often the event stream sends stats: a live chart
// without the page ever polling.
const statsInterval = time.Second

// changes tells event streams that pins changed. Every pin change goes
// through the API (add, pin add and rm, import, background jobs), so the
// server itself knows when to announce one.
type changes struct {
	mu   sync.Mutex
	subs map[chan struct{}]struct{}
}

func newChanges() *changes { return &changes{subs: map[chan struct{}]struct{}{}} }

// subscribe returns a channel that receives a value after changes (several
// changes in a row may arrive as one), and the func that ends the
// subscription.
func (c *changes) subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	c.mu.Lock()
	c.subs[ch] = struct{}{}
	c.mu.Unlock()
	return ch, func() {
		c.mu.Lock()
		delete(c.subs, ch)
		c.mu.Unlock()
	}
}

func (c *changes) announce() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for ch := range c.subs {
		select {
		case ch <- struct{}{}:
		default: // one is pending already
		}
	}
}

// watchJobPins announces a pin change whenever a background job pins
// something; the returned func stops watching.
func (s *Server) watchJobPins() func() {
	jobs, ok := s.backend.(api.Jobs)
	if !ok {
		return func() {}
	}
	return jobs.WatchJobs(func(j api.Job) {
		if j.State == api.JobDone {
			s.pins.announce()
		}
	})
}

// changingPins announces a pin change once h has handled a request.
func (s *Server) changingPins(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h(w, r)
		s.pins.announce()
	}
}

// sseWriter writes server-sent events.
type sseWriter struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func (s sseWriter) send(event string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", event, err)
	}
	if _, err := fmt.Fprintf(s.w, "event: %s\ndata: %s\n\n", event, b); err != nil {
		return err
	}
	return s.rc.Flush()
}

// handleEvents is the web UI's one live feed (text/event-stream):
// "history" (the last two minutes of traffic, for the chart) on connect,
// "stats" every second, "jobs" (all of them) on connect then "job" on each change,
// "pins" when the pin list changed, "groups" (at most once a second) when
// what the groups show may have changed, and "uploads" (the whole list)
// every second while peers download from this node, plus once when they
// stop. It ends when the client goes, the server shuts down, or the web
// UI session it was opened with ends (the page's reconnection is then
// refused, and it says it is signed out).
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	stats, _ := s.backend.(api.StatsSource)
	jobs, _ := s.backend.(api.Jobs)
	uploads, _ := s.backend.(api.Uploads)
	session, bySession := sessionOf(r)

	// Job changes are coalesced per job: a slow client gets each job's
	// latest state, never a backlog.
	var mu sync.Mutex
	pending := map[string]api.Job{}
	var order []string
	jobsChanged := make(chan struct{}, 1)
	if jobs != nil {
		stop := jobs.WatchJobs(func(j api.Job) {
			mu.Lock()
			if _, ok := pending[j.ID]; !ok {
				order = append(order, j.ID)
			}
			pending[j.ID] = j
			mu.Unlock()
			select {
			case jobsChanged <- struct{}{}:
			default:
			}
		})
		defer stop()
	}
	pinsChanged, unsub := s.pins.subscribe()
	defer unsub()
	// Group changes come in bursts (a sync, a round of heartbeats): at
	// most one "groups" event a second, at the stats tick.
	var groupsChanged atomic.Bool
	if gw, ok := s.backend.(api.GroupWatcher); ok {
		stop := gw.WatchGroups(func() { groupsChanged.Store(true) })
		defer stop()
	}

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	out := sseWriter{w: w, rc: http.NewResponseController(w)}

	sendStats := func() error {
		if stats == nil {
			return nil
		}
		st, err := stats.Stats(r.Context())
		if err != nil {
			return nil // skip one tick rather than end the stream
		}
		return out.send("stats", st)
	}
	sendUploads := uploadTicker(r, uploads, out)
	// Tell the client to reconnect quickly if the stream breaks.
	if _, err := fmt.Fprint(w, "retry: 2000\n\n"); err != nil {
		return
	}
	if stats != nil {
		if err := out.send("history", stats.StatsHistory()); err != nil {
			return
		}
	}
	if err := sendStats(); err != nil {
		return
	}
	if jobs != nil {
		if err := out.send("jobs", jobs.Jobs()); err != nil {
			return
		}
	}
	tick := time.NewTicker(statsInterval)
	defer tick.Stop()
	for {
		var err error
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			if bySession && !s.sessions.alive(session) {
				return
			}
			if err = sendStats(); err == nil {
				err = sendUploads()
			}
			if err == nil && groupsChanged.Swap(false) {
				err = out.send("groups", struct{}{})
			}
		case <-pinsChanged:
			err = out.send("pins", struct{}{})
		case <-jobsChanged:
			mu.Lock()
			batch := make([]api.Job, 0, len(order))
			for _, id := range order {
				batch = append(batch, pending[id])
			}
			pending, order = map[string]api.Job{}, nil
			mu.Unlock()
			for _, j := range batch {
				if err = out.send("job", j); err != nil {
					break
				}
			}
		}
		if err != nil {
			return
		}
	}
}

// uploadTicker returns what sends the uploads on each tick of a stream:
// the list while it has entries, and the empty list once after, so a page
// clears it; nothing while no peer downloads.
func uploadTicker(r *http.Request, uploads api.Uploads, out sseWriter) func() error {
	shown := false
	return func() error {
		if uploads == nil {
			return nil
		}
		list, err := uploads.Uploads(r.Context())
		if err != nil || (len(list) == 0 && !shown) {
			return nil // an error skips one tick rather than end the stream
		}
		shown = len(list) > 0
		return out.send("uploads", list)
	}
}
