package web

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kith-p2p/kith/web/api"
)

// sseReader reads server-sent events from a response.
type sseReader struct {
	events chan [2]string // event name, data
	early  [][2]string    // events read while waiting for another kind
}

func readEvents(t *testing.T, resp *http.Response) *sseReader {
	r := &sseReader{events: make(chan [2]string, 64)}
	go func() {
		defer close(r.events)
		sc := bufio.NewScanner(resp.Body)
		var name string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				r.events <- [2]string{name, strings.TrimPrefix(line, "data: ")}
			}
		}
	}()
	return r
}

// next returns the next event named name. Stats ticks are skipped; other
// events are kept for later calls, since events of different kinds may
// come in either order.
func (r *sseReader) next(t *testing.T, name string) string {
	t.Helper()
	for i, ev := range r.early {
		if ev[0] == name {
			r.early = append(r.early[:i], r.early[i+1:]...)
			return ev[1]
		}
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-r.events:
			if !ok {
				t.Fatalf("stream ended before a %q event", name)
			}
			if ev[0] == name {
				return ev[1]
			}
			if ev[0] != "stats" {
				r.early = append(r.early, ev)
			}
		case <-deadline:
			t.Fatalf("no %q event", name)
		}
	}
}

func TestEventStream(t *testing.T) {
	fb := &fakeBackend{}
	s := startServer(t, fb)
	resp := request(t, s, http.MethodGet, "/api/v1/events", bearer())
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	ev := readEvents(t, resp)

	// First the last two minutes, so a chart opened now shows a transfer
	// that ended before the page opened.
	var hist []api.Stats
	if err := json.Unmarshal([]byte(ev.next(t, "history")), &hist); err != nil || len(hist) != 2 || hist[0].RateIn != 300<<20 {
		t.Fatalf("history event %+v, %v", hist, err)
	}
	var st api.Stats
	if err := json.Unmarshal([]byte(ev.next(t, "stats")), &st); err != nil || st.Peers != 2 || st.DiskUsage != 4096 {
		t.Fatalf("stats event %+v, %v", st, err)
	}
	if got := ev.next(t, "jobs"); got != "[]" {
		t.Fatalf("initial jobs %s", got)
	}
	// A second stats event comes a tick later, without asking.
	ev.next(t, "stats")

	// A job started through the API shows up on the stream, and so does
	// its progress.
	start := request(t, s, http.MethodPost, "/api/v1/jobs/fetch?cid=bafkreicljtzuqjre64mv5kc5pf3plz2wsh2fjhkrof3v6rgdvkdfva24qe&name=x", bearer())
	if start.StatusCode != http.StatusOK {
		t.Fatalf("start job: status %d", start.StatusCode)
	}
	var j api.Job
	if err := json.Unmarshal([]byte(ev.next(t, "job")), &j); err != nil || j.ID != "job1" || j.State != api.JobRunning {
		t.Fatalf("job event %+v, %v", j, err)
	}
	fb.report(api.Job{ID: "job1", State: api.JobDone, Bytes: 10, Total: 10})
	if err := json.Unmarshal([]byte(ev.next(t, "job")), &j); err != nil || j.State != api.JobDone {
		t.Fatalf("job event %+v, %v", j, err)
	}
	// A job that pinned something is a pin change.
	ev.next(t, "pins")

	// An unpin through the API is announced too.
	if resp := request(t, s, http.MethodPost, "/api/v1/pin/rm?cid=bafkreicljtzuqjre64mv5kc5pf3plz2wsh2fjhkrof3v6rgdvkdfva24qe", bearer()); resp.StatusCode != http.StatusOK {
		t.Fatalf("unpin: status %d", resp.StatusCode)
	}
	ev.next(t, "pins")

	// A burst of group changes is one "groups" event, at the next tick.
	for range 5 {
		fb.groupsChanged()
	}
	ev.next(t, "groups")
	ev.next(t, "stats")
	ev.next(t, "stats") // a tick with nothing new: no second "groups"
	for _, e := range ev.early {
		if e[0] == "groups" {
			t.Fatalf("a second groups event for one burst (events: %v)", ev.early)
		}
	}
}

func TestEventStreamNeedsCredentials(t *testing.T) {
	s := startServer(t, &fakeBackend{})
	if resp := request(t, s, http.MethodGet, "/api/v1/events", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d without credentials", resp.StatusCode)
	}
}
