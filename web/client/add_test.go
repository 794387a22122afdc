package client

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/ipfs/boxo/files"

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

// TestStreamedAddLeavesOutTheRepo: a folder streamed to the daemon (it
// could not read it) goes without the daemon's repo inside it, and a path
// inside the repo is refused before anything is sent.
func TestStreamedAddLeavesOutTheRepo(t *testing.T) {
	home := t.TempDir()
	repo := filepath.Join(home, ".kith")
	for name, body := range map[string]string{
		"notes.txt":                       "my notes\n",
		".kith/identity.key":              "PRIVATE-KEY-BYTES",
		".kith/blocks/0001.pack":          "BLOCK-BYTES",
		".kith/" + api.TokenFile:          "token",
		".kith/" + api.APIFile:            "", // filled below
		"sub/.kith-not-the-repo/kept.txt": "kept\n",
	} {
		p := filepath.Join(home, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var requests int
	var streamed []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		requests++
		enc := json.NewEncoder(w)
		if p := r.URL.Query().Get("path"); p != "" {
			_ = enc.Encode(api.Event{Type: "error", Kind: api.KindPermission, Error: "add " + p + ": permission denied"})
			return
		}
		streamed, _ = io.ReadAll(r.Body)
		res, _ := json.Marshal(api.AddResult{Cid: "bafkqaaa", Name: "home"})
		_ = enc.Encode(api.Event{Type: "done", Result: res})
	}))
	defer srv.Close()
	if err := os.WriteFile(filepath.Join(repo, api.APIFile), []byte(strings.TrimPrefix(srv.URL, "http://")), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := FromRepo(repo)
	if err != nil {
		t.Fatal(err)
	}
	// A socket in the folder is left out too, and named in the result.
	sock := filepath.Join(home, "sub", "s")
	if l, err := net.Listen("unix", sock); err == nil {
		defer l.Close()
	} else {
		sock = ""
	}
	res, err := c.AddPath(context.Background(), home, true, api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []api.SkippedFile{{Path: sock, Kind: "socket"}}; sock != "" && (res.SkippedCount != 1 || !slices.Equal(res.Skipped, want)) {
		t.Errorf("skipped %+v (%d), want %+v", res.Skipped, res.SkippedCount, want)
	}
	mu.Lock()
	body := string(streamed)
	mu.Unlock()
	for _, want := range []string{"my notes", "kept"} {
		if !strings.Contains(body, want) {
			t.Errorf("the streamed folder lacks %q", want)
		}
	}
	for _, secret := range []string{"PRIVATE-KEY-BYTES", "BLOCK-BYTES", "identity.key"} {
		if strings.Contains(body, secret) {
			t.Errorf("the streamed folder holds the repo's %q", secret)
		}
	}

	mu.Lock()
	requests = 0
	mu.Unlock()
	_, err = c.AddPath(context.Background(), filepath.Join(repo, "identity.key"), false, api.AddOptions{}, nil)
	if api.KindOf(err) != api.KindInvalid || !strings.Contains(err.Error(), "own repo") {
		t.Errorf("add of the repo's key: %v, want invalid: in the repo", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if requests != 1 { // the daemon is asked (it refuses to read), nothing is streamed
		t.Errorf("%d requests for a path in the repo, want 1", requests)
	}
}

// unreadable is a file whose bytes cannot be read here (as one without
// read permission), for an upload.
type unreadable struct{ files.File }

func (unreadable) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: "/home/u/docs/secret.txt", Err: syscall.EACCES}
}

// TestStreamedAddOfAFileNotReadableHere: a file the client cannot read
// while it streams a folder is said as such, with what to do, not as a
// failure to reach the daemon.
func TestStreamedAddOfAFileNotReadableHere(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusBadRequest)
	}))
	defer srv.Close()
	c := &Client{base: srv.URL, http: srv.Client()}
	dir := files.NewMapDirectory(map[string]files.Node{"secret.txt": unreadable{files.NewBytesFile([]byte("x"))}})
	_, err := c.Add(context.Background(), "docs", dir, 0, api.AddOptions{}, nil)
	if err == nil || strings.Contains(err.Error(), "reach the daemon") ||
		!strings.Contains(err.Error(), "add docs: read /home/u/docs/secret.txt: permission denied: make it readable, or leave it out with --exclude secret.txt") {
		t.Fatalf("Add = %v", err)
	}
}
