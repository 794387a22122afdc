package web

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/kith-p2p/kith/web/api"
)

// progressInterval bounds how often progress lines are written: enough for a
// live bar, few enough that a 1 GiB add does not spend time on JSON.
const progressInterval = 100 * time.Millisecond

// eventStream writes an operation's progress and outcome as NDJSON.
type eventStream struct {
	mu    sync.Mutex
	w     http.ResponseWriter
	rc    *http.ResponseController
	enc   *json.Encoder
	last  time.Time
	phase string // of the last progress event sent
}

func newEventStream(w http.ResponseWriter) *eventStream {
	rc := http.NewResponseController(w)
	// Progress streams out while the request body (an add, an import) is
	// still streaming in; HTTP/1.1 servers close the body once a response
	// is flushed unless full duplex is on.
	_ = rc.EnableFullDuplex()
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	return &eventStream{w: w, rc: rc, enc: json.NewEncoder(w)}
}

// closeDuplexBody closes the body of a request whose handler streamed
// events in full duplex. A full-duplex handler that returns before reading
// its body to the end (a multipart reader stops at the closing boundary)
// makes the server panic with "invalid concurrent Body.Read call" when it
// reads the connection's next request (golang/go#68560), which cuts the
// keep-alive connection under the client's next request.
func closeDuplexBody(r *http.Request) { _ = r.Body.Close() }

func (s *eventStream) send(ev api.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.enc.Encode(ev)
	_ = s.rc.Flush()
}

// progress is the callback handed to the backend; it drops updates that come
// faster than progressInterval, but never the first of a new phase (a
// fetch's "waiting" comes just after its last "fetch").
func (s *eventStream) progress(p api.Progress) {
	now := time.Now()
	s.mu.Lock()
	if now.Sub(s.last) < progressInterval && p.Phase == s.phase {
		s.mu.Unlock()
		return
	}
	s.last, s.phase = now, p.Phase
	s.mu.Unlock()
	s.send(api.Event{Type: "progress", Phase: p.Phase, Bytes: p.Bytes, Total: p.Total, Count: p.Count, Peers: p.Peers, Rate: p.Rate, Have: p.Have, Until: p.Until})
}

// finish writes the final event: the result, or the error.
func (s *eventStream) finish(result any, err error) {
	if err != nil {
		s.send(api.Event{Type: "error", Error: api.Sentence(err), Kind: api.KindOf(err)})
		return
	}
	raw, merr := json.Marshal(result)
	if merr != nil {
		s.send(api.Event{Type: "error", Error: merr.Error(), Kind: api.KindInternal})
		return
	}
	s.send(api.Event{Type: "done", Result: raw})
}
