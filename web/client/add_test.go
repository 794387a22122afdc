package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/kith-p2p/kith/web/api"
)

// TestAddPathFallsBackToStreaming: when the daemon cannot read a path
// (not_found, permission: another user, a container), AddPath streams the
// bytes, and AddPathByDaemon does not: it returns the daemon's refusal.
// Any other failure is returned by both without streaming.
func TestAddPathFallsBackToStreaming(t *testing.T) {
	file := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(file, []byte("notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		refusal  api.Kind // what the daemon answers to ?path=
		byDaemon bool
		streamed bool
	}{
		{"not found, AddPath", api.KindNotFound, false, true},
		{"permission, AddPath", api.KindPermission, false, true},
		{"not found, by daemon", api.KindNotFound, true, false},
		{"permission, by daemon", api.KindPermission, true, false},
		{"disk full, AddPath", api.KindDiskFull, false, false},
		{"disk full, by daemon", api.KindDiskFull, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var requests []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				enc := json.NewEncoder(w)
				if p := r.URL.Query().Get("path"); p != "" {
					requests = append(requests, "path")
					_ = enc.Encode(api.Event{Type: "error", Kind: tc.refusal, Error: "add " + p + ": refused"})
					return
				}
				requests = append(requests, "stream")
				res, _ := json.Marshal(api.AddResult{Cid: "bafkqaaa", Name: "notes.txt"})
				_ = enc.Encode(api.Event{Type: "done", Result: res})
			}))
			defer srv.Close()
			c := New(strings.TrimPrefix(srv.URL, "http://"), "token")
			add := c.AddPath
			if tc.byDaemon {
				add = c.AddPathByDaemon
			}
			res, err := add(context.Background(), file, false, api.AddOptions{}, nil)
			mu.Lock()
			defer mu.Unlock()
			want := "[path]"
			if tc.streamed {
				want = "[path stream]"
			}
			if got := strings.Join(requests, " "); "["+got+"]" != want {
				t.Errorf("requests %s, want %s", "["+got+"]", want)
			}
			var ae *api.Error
			switch {
			case tc.streamed && (err != nil || res.Cid != "bafkqaaa"):
				t.Errorf("streamed add: %+v, %v", res, err)
			case !tc.streamed && (!errors.As(err, &ae) || ae.Kind != tc.refusal):
				t.Errorf("add: %v, want the daemon's %s refusal", err, tc.refusal)
			}
		})
	}
}
