package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/kith-p2p/kith/web/api"
	"github.com/kith-p2p/kith/web/client"
)

// TestJobPauseResumeRoutes drives a job through pause and resume over
// HTTP: each move answers the job in its new state (and the event stream
// carries it); a move the job's state does not allow is a 409 whose body
// is one sentence of kind conflict; a missing or unknown id is 400 or 404.
func TestJobPauseResumeRoutes(t *testing.T) {
	fb := &fakeBackend{}
	s := startServer(t, fb)
	ev := readEvents(t, request(t, s, http.MethodGet, "/api/v1/events", bearer()))
	ev.next(t, "jobs")
	const c = "bafkreicljtzuqjre64mv5kc5pf3plz2wsh2fjhkrof3v6rgdvkdfva24qe"
	if resp := request(t, s, http.MethodPost, "/api/v1/jobs/fetch?cid="+c, bearer()); resp.StatusCode != http.StatusOK {
		t.Fatalf("start: status %d", resp.StatusCode)
	}
	ev.next(t, "job")

	tests := []struct {
		name   string
		path   string
		status int
		state  string   // of the job answered, on success
		kind   api.Kind // of the error, on failure
	}{
		{"pause a running job", "/api/v1/jobs/pause?id=job1", 200, api.JobPaused, ""},
		{"pause it again", "/api/v1/jobs/pause?id=job1", 409, "", api.KindConflict},
		{"resume it", "/api/v1/jobs/resume?id=job1", 200, api.JobRunning, ""},
		{"resume a running job", "/api/v1/jobs/resume?id=job1", 409, "", api.KindConflict},
		{"pause without an id", "/api/v1/jobs/pause", 400, "", api.KindInvalid},
		{"resume an unknown job", "/api/v1/jobs/resume?id=nope", 404, "", api.KindNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := request(t, s, http.MethodPost, tt.path, bearer())
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			switch {
			case tt.state != "":
				var j api.Job
				if err := json.NewDecoder(resp.Body).Decode(&j); err != nil || j.ID != "job1" || j.State != tt.state {
					t.Fatalf("answer %+v, %v; want job1 %s", j, err, tt.state)
				}
				var seen api.Job
				if err := json.Unmarshal([]byte(ev.next(t, "job")), &seen); err != nil || seen.State != tt.state {
					t.Fatalf("event %+v, %v; want state %s", seen, err, tt.state)
				}
			case tt.kind != "":
				var eb api.ErrorBody
				if err := json.NewDecoder(resp.Body).Decode(&eb); err != nil || eb.Kind != tt.kind || eb.Error == "" {
					t.Fatalf("error body %+v, %v; want kind %s", eb, err, tt.kind)
				}
			}
		})
	}

	// The client says the same.
	cl := client.New(s.Addr(), "secret-token")
	ctx := context.Background()
	if j, err := cl.PauseJob(ctx, "job1"); err != nil || j.State != api.JobPaused {
		t.Fatalf("client pause: %+v, %v", j, err)
	}
	_, err := cl.PauseJob(ctx, "job1")
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Kind != api.KindConflict || ae.Message != "the transfer is paused: only a running transfer can be paused" {
		t.Fatalf("client pause of a paused job: %v", err)
	}
	if j, err := cl.ResumeJob(ctx, "job1"); err != nil || j.State != api.JobRunning {
		t.Fatalf("client resume: %+v, %v", j, err)
	}
}

// TestUploadsRoute: GET /uploads answers the backend's list (never null),
// and the event stream sends it every second while it has entries, then
// the empty list once.
func TestUploadsRoute(t *testing.T) {
	fb := &fakeBackend{}
	s := startServer(t, fb)
	cl := client.New(s.Addr(), "secret-token")
	ctx := context.Background()
	resp := request(t, s, http.MethodGet, "/api/v1/uploads", bearer())
	var raw json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil || resp.StatusCode != 200 || string(raw) != "[]" {
		t.Fatalf("no uploads: status %d, body %s, %v", resp.StatusCode, raw, err)
	}

	ev := readEvents(t, request(t, s, http.MethodGet, "/api/v1/events", bearer()))
	ev.next(t, "jobs")
	up := api.Upload{Peer: "12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq", PeerName: "laptop",
		Cid: "bafkreicljtzuqjre64mv5kc5pf3plz2wsh2fjhkrof3v6rgdvkdfva24qe", Name: "hello.txt",
		Protocols: []string{"kith"}, Bytes: 11, Blocks: 1, Rate: 5.5, Since: time.Now().UTC().Truncate(time.Second)}
	up.Last = up.Since
	fb.setUploads([]api.Upload{up})
	list, err := cl.Uploads(ctx)
	if err != nil || len(list) != 1 || list[0].Peer != up.Peer || list[0].Name != "hello.txt" || !list[0].Since.Equal(up.Since) {
		t.Fatalf("uploads %+v, %v", list, err)
	}
	var got []api.Upload
	if err := json.Unmarshal([]byte(ev.next(t, "uploads")), &got); err != nil || len(got) != 1 || got[0].Bytes != 11 {
		t.Fatalf("uploads event %+v, %v", got, err)
	}
	fb.setUploads(nil)
	if got := ev.next(t, "uploads"); got != "[]" {
		// A tick may have sent the list again before it emptied.
		if got = ev.next(t, "uploads"); got != "[]" {
			t.Fatalf("uploads event after they ended: %s", got)
		}
	}
}
