package web

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kith-p2p/kith/web/api"
)

// TestProgressThrottleKeepsNewPhases: progress that comes faster than
// progressInterval is dropped, except the first event of a new phase (a
// fetch's "waiting" right after its last "fetch", which says why nothing
// moves).
func TestProgressThrottleKeepsNewPhases(t *testing.T) {
	rec := httptest.NewRecorder()
	s := newEventStream(rec)
	until := time.Date(2026, 12, 6, 15, 52, 0, 0, time.UTC)
	s.progress(api.Progress{Phase: "fetch", Bytes: 1})
	s.progress(api.Progress{Phase: "fetch", Bytes: 2}) // dropped: too soon
	s.progress(api.Progress{Phase: "waiting", Bytes: 2, Until: until})
	s.progress(api.Progress{Phase: "waiting", Bytes: 2, Until: until}) // dropped
	var got []api.Event
	for _, l := range strings.Split(strings.TrimSpace(rec.Body.String()), "\n") {
		var ev api.Event
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		got = append(got, ev)
	}
	if len(got) != 2 || got[0].Phase != "fetch" || got[1].Phase != "waiting" || !got[1].Until.Equal(until) || got[1].Bytes != 2 {
		t.Fatalf("events sent: %+v, want the first fetch and the first waiting (with until)", got)
	}
}
