package node

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kith-p2p/kith/protocol/ticket"
	"github.com/kith-p2p/kith/web/api"
)

// TestTicketCarriesModesAndTimes: a folder (or several, wrapped) added by
// path gets a ticket that carries its modes and times, and a friend's get
// of that ticket gives them to what it writes (a script stays executable,
// the photos keep their times), except the right to write for others,
// which a stranger's ticket never gives. A get by the CID alone writes
// the usual modes and the time of writing.
func TestTicketCarriesModesAndTimes(t *testing.T) {
	ctx := context.Background()
	a, b := newLocalNode(t), newLocalNode(t)
	connect(t, b, a.Host())
	old := time.Date(2019, 7, 8, 9, 10, 11, 0, time.UTC)

	src := t.TempDir()
	holiday := filepath.Join(src, "holiday")
	other := filepath.Join(src, "other")
	files := []struct {
		rel  string
		mode fs.FileMode
	}{
		{"holiday/run.sh", 0o755},
		{"holiday/open.txt", 0o777},
		{"holiday/day-1/pic.jpg", 0o600},
		{"other/notes.txt", 0o640},
	}
	for _, f := range files {
		p := filepath.Join(src, f.rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f.rel), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, f.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chtimes(filepath.Join(holiday, "day-1"), old, old); err != nil {
		t.Fatal(err)
	}

	// want is the mode and time a get of a ticket gives rel, under out.
	check := func(t *testing.T, out, rel string, mode fs.FileMode, mtime time.Time) {
		t.Helper()
		st, err := os.Stat(filepath.Join(out, rel))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != mode || !st.ModTime().Equal(mtime) {
			t.Errorf("%s: mode %v, time %v; want %v, %v", rel, st.Mode().Perm(), st.ModTime(), mode, mtime)
		}
	}
	get := func(t *testing.T, ref string) (string, api.GetResult) {
		t.Helper()
		out := filepath.Join(t.TempDir(), "out")
		res, err := b.Get(ctx, ref, out, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return out, res
	}

	t.Run("one folder", func(t *testing.T) {
		res, err := a.AddPaths(ctx, []string{holiday}, api.AddOptions{Recursive: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		tk, err := ticket.Parse(res.Ticket)
		if err != nil || !tk.Meta.Defined() || tk.Name != "holiday" {
			t.Fatalf("ticket %+v (%v), want one that carries modes and times", tk, err)
		}
		// The ticket the API makes again later carries them too.
		again, err := a.Ticket(ctx, tk.Cid)
		if err != nil {
			t.Fatal(err)
		}
		if tk2, err := ticket.Parse(again.Ticket); err != nil || !tk2.Meta.Equals(tk.Meta) {
			t.Fatalf("the API's ticket carries %v (%v), want %v", tk2.Meta, err, tk.Meta)
		}
		out, got := get(t, res.Ticket)
		if got.Meta == 0 {
			t.Errorf("the get says it changed no mode or time: %+v", got)
		}
		check(t, out, "run.sh", 0o755, old)
		check(t, out, "open.txt", 0o755, old) // not writable by others
		check(t, out, "day-1/pic.jpg", 0o600, old)
		check(t, out, "day-1", 0o755, old)

		// By its CID alone: nothing carries them.
		start := time.Now().Add(-time.Second)
		out, got = get(t, res.Cid)
		if got.Meta != 0 {
			t.Errorf("a get by CID changed %d modes or times", got.Meta)
		}
		st, err := os.Stat(filepath.Join(out, "run.sh"))
		if err != nil || st.Mode().Perm() == 0o755 || st.ModTime().Before(start) {
			t.Errorf("a get by CID wrote run.sh with mode %v and time %v (%v)", st.Mode().Perm(), st.ModTime(), err)
		}
	})

	t.Run("wrapped", func(t *testing.T) {
		res, err := a.AddPaths(ctx, []string{holiday, other}, api.AddOptions{Recursive: true, Wrap: "both"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := get(t, res.Ticket)
		check(t, out, "holiday/run.sh", 0o755, old)
		check(t, out, "holiday/day-1", 0o755, old)
		check(t, out, "other/notes.txt", 0o640, old)
	})

	t.Run("one file", func(t *testing.T) {
		res, err := a.AddPaths(ctx, []string{filepath.Join(holiday, "run.sh")}, api.AddOptions{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := get(t, res.Ticket)
		check(t, out, "", 0o755, old)
	})
}
