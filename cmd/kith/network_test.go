package main_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// p2pAddrOf returns a multiaddr other daemons can dial the daemon of repo at.
func p2pAddrOf(t testing.TB, repo string) string {
	t.Helper()
	var id struct {
		PeerID    string `json:"peer_id"`
		Addresses []string
	}
	if err := json.Unmarshal([]byte(mustKith(t, repo, "--json", "id")), &id); err != nil {
		t.Fatal(err)
	}
	for _, a := range id.Addresses {
		if strings.Contains(a, "/tcp/") {
			return a + "/p2p/" + id.PeerID
		}
	}
	t.Fatalf("no TCP address in %+v", id)
	return ""
}

// TestThreeDaemonsShare adds a folder on one daemon and gets it on the other
// two: the second is connected to the first, the third only to the second
// (it learns the first through the DHT or fetches from the second).
func TestThreeDaemonsShare(t *testing.T) {
	r1, r2, r3 := t.TempDir(), t.TempDir(), t.TempDir()
	startDaemon(t, r1)
	startDaemon(t, r2)
	startDaemon(t, r3)
	mustKith(t, r2, "connect", p2pAddrOf(t, r1))
	mustKith(t, r3, "connect", p2pAddrOf(t, r2))

	src := filepath.Join(t.TempDir(), "share")
	os.MkdirAll(filepath.Join(src, "docs"), 0o755)
	os.WriteFile(filepath.Join(src, "big.bin"), randomBytes(20<<20+5), 0o644)
	os.WriteFile(filepath.Join(src, "docs", "note.txt"), []byte("from daemon one"), 0o644)
	root := mustKith(t, r1, "add", "-r", "-q", src)

	for _, repo := range []string{r2, r3} {
		out := filepath.Join(t.TempDir(), "got")
		msg := mustKith(t, repo, "get", root, "-o", out)
		if !strings.Contains(msg, "fetched") {
			t.Fatalf("get on %s did not fetch: %s", repo, msg)
		}
		for _, name := range []string{"big.bin", "docs/note.txt"} {
			want, _ := os.ReadFile(filepath.Join(src, name))
			got, err := os.ReadFile(filepath.Join(out, name))
			if err != nil || string(got) != string(want) {
				t.Fatalf("%s differs after get on %s: %v", name, repo, err)
			}
		}
	}
	if peers := mustKith(t, r3, "peers"); !strings.Contains(peers, "direct/tcp") {
		t.Fatalf("peers:\n%s", peers)
	}
	// What the gets fetched is the downloads' cache, and repo stat says so.
	waitFor(t, 10*time.Second, "repo stat to show the download cached", func() bool {
		out, _, err := runKith(t, r3, "repo", "stat")
		return err == nil && strings.Contains(out, "cache:   20 MiB of finished downloads, unpinned (fetch.cache_max 4.0 GiB; kith gc empties it)")
	})
	if id := mustKith(t, r1, "id"); !strings.Contains(id, "/p2p/") {
		t.Fatalf("id:\n%s", id)
	}
}

// TestGetResumesAfterDaemonRestart stops the fetching daemon (SIGTERM) in
// the middle of a `kith get`, restarts it, and runs the same get again: only
// what is missing moves.
func TestGetResumesAfterDaemonRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 256 MiB")
	}
	seed, repo := t.TempDir(), t.TempDir()
	startDaemon(t, seed)
	d := startDaemon(t, repo)
	src := filepath.Join(t.TempDir(), "big.bin")
	writeRandomFile(t, src, 256<<20)
	root := mustKith(t, seed, "add", "-q", src)
	seedAddr := p2pAddrOf(t, seed)
	mustKith(t, repo, "connect", seedAddr)

	out := filepath.Join(t.TempDir(), "out.bin")
	// Ctrl-C on the CLI: it says how far it got and how to go on.
	var stderr bytes.Buffer
	first := exec.Command(kithBin, "--repo", repo, "--json", "get", root, "-o", out)
	pipe, err := first.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	first.Stderr = &stderr
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	if !awaitProgress(bufio.NewScanner(pipe), "fetch", 16<<20) {
		t.Fatal("the get finished before it could be interrupted; make the file bigger")
	}
	first.Process.Signal(os.Interrupt)
	if err := first.Wait(); err == nil {
		t.Fatal("an interrupted get exited 0")
	}
	if msg := stderr.String(); !strings.Contains(msg, "get stopped at ") || !strings.Contains(msg, "run the same command to resume") {
		t.Fatalf("interrupted get said %q", msg)
	}

	get, events := startKithJSON(t, repo, "get", root, "-o", out)
	stopped := awaitProgress(events, "fetch", 64<<20)
	if stopped {
		if err := d.stop(); err != nil {
			t.Fatalf("daemon exit after SIGTERM mid-get: %v", err)
		}
	}
	if !stopped {
		t.Fatal("the get finished before the daemon could be stopped; make the file bigger")
	}
	get.Wait()
	if _, err := os.Stat(out); err == nil {
		t.Fatal("the interrupted get left a file behind")
	}

	startDaemon(t, repo)
	mustKith(t, repo, "connect", seedAddr)
	var res struct {
		Fetched struct{ Bytes int64 }
	}
	if err := json.Unmarshal([]byte(lastLine(mustKith(t, repo, "--json", "get", root, "-o", out))), &res); err != nil {
		t.Fatal(err)
	}
	if res.Fetched.Bytes == 0 || res.Fetched.Bytes > 200<<20 {
		t.Fatalf("after restart the get fetched %d bytes of 256 MiB; want only the missing part", res.Fetched.Bytes)
	}
	want, _ := os.ReadFile(src)
	got, _ := os.ReadFile(out)
	if string(got) != string(want) {
		t.Fatal("resumed get wrote different bytes")
	}
}

// TestTicketOfStoppedSharer: a ticket brings the content with no connect
// and no DHT while its sharer runs; once the sharer stops, get says that
// the ticket's sharer could not be reached, and why, rather than only that
// nobody has the content; so do cat and ls.
func TestTicketOfStoppedSharer(t *testing.T) {
	seed, getter := t.TempDir(), t.TempDir()
	sd := startDaemon(t, seed)
	startDaemon(t, getter)
	dir := t.TempDir()
	ticketOf := func(name string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, randomBytes(100<<10), 0o644)
		var res struct{ Ticket string }
		out := mustKith(t, seed, "--json", "add", p)
		if err := json.Unmarshal([]byte(lastLine(out)), &res); err != nil || !strings.HasPrefix(res.Ticket, "kith1") {
			t.Fatalf("add %s: no ticket in %q (%v)", name, out, err)
		}
		return res.Ticket
	}
	first, second := ticketOf("first.bin"), ticketOf("second.bin")
	mustKith(t, getter, "get", first, "-o", filepath.Join(dir, "first-copy.bin"))
	if err := sd.stop(); err != nil {
		t.Fatalf("stop the sharer: %v", err)
	}
	// cat and ls say the same, not "kith get fetches it".
	for _, args := range [][]string{{"get", second, "-o", filepath.Join(dir, "second-copy.bin")}, {"cat", second}, {"ls", second}} {
		_, stderr, err := runKith(t, getter, args...)
		if err == nil {
			t.Fatalf("%s of a stopped sharer's ticket succeeded", args[0])
		}
		for _, want := range []string{"The ticket's sharer (", "could not be reached", "connection refused (nothing listens there)", "Is their kith running"} {
			if !strings.Contains(stderr, want) {
				t.Fatalf("%s of a stopped sharer's ticket: %q does not say %q", args[0], stderr, want)
			}
		}
	}
}

// TestTicketCarriesTheName: a ticket names the content as its sharer did,
// so `kith get TICKET` saves ./NAME, `-o FOLDER` (one that exists) saves
// FOLDER/NAME, and `pin add TICKET` pins it under that name; a plain CID
// still saves as ./CID.
func TestTicketCarriesTheName(t *testing.T) {
	seed, getter := t.TempDir(), t.TempDir()
	startDaemon(t, seed)
	startDaemon(t, getter)
	src := filepath.Join(t.TempDir(), "holiday.bin")
	data := randomBytes(200 << 10)
	os.WriteFile(src, data, 0o644)
	var res struct{ Cid, Ticket string }
	if err := json.Unmarshal([]byte(lastLine(mustKith(t, seed, "--json", "add", src))), &res); err != nil {
		t.Fatal(err)
	}

	cwd := t.TempDir()
	get := exec.Command(kithBin, "--repo", getter, "get", res.Ticket)
	get.Dir = cwd
	if out, err := get.CombinedOutput(); err != nil {
		t.Fatalf("get TICKET: %v: %s", err, out)
	}
	into := t.TempDir()
	mustKith(t, getter, "get", res.Ticket, "-o", into)
	plain := exec.Command(kithBin, "--repo", getter, "get", res.Cid)
	plain.Dir = cwd
	if out, err := plain.CombinedOutput(); err != nil {
		t.Fatalf("get CID: %v: %s", err, out)
	}
	for _, p := range []string{filepath.Join(cwd, "holiday.bin"), filepath.Join(into, "holiday.bin"), filepath.Join(cwd, res.Cid)} {
		if b, err := os.ReadFile(p); err != nil || !bytes.Equal(b, data) {
			t.Fatalf("%s: %v (%d bytes)", p, err, len(b))
		}
	}
	// Into the same folder again: the file is there already, nothing to
	// do; once it differs, refused, never overwritten.
	if out := mustKith(t, getter, "get", res.Ticket, "-o", into); !strings.Contains(out, filepath.Join(into, "holiday.bin")+" holds "+res.Cid+" already") {
		t.Fatalf("second get into %s: %s", into, out)
	}
	data[0]++
	if err := os.WriteFile(filepath.Join(into, "holiday.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := runKith(t, getter, "get", res.Ticket, "-o", into); err == nil || !strings.Contains(stderr, filepath.Join(into, "holiday.bin")+" already exists") {
		t.Fatalf("get into %s over another file: %v: %s", into, err, stderr)
	}
	if b, err := os.ReadFile(filepath.Join(into, "holiday.bin")); err != nil || !bytes.Equal(b, data) {
		t.Fatalf("the other file was overwritten (%v)", err)
	}

	folder := filepath.Join(t.TempDir(), "f")
	os.MkdirAll(folder, 0o755)
	os.WriteFile(filepath.Join(folder, "a.txt"), []byte("a"), 0o644)
	if err := json.Unmarshal([]byte(lastLine(mustKith(t, seed, "--json", "add", "-r", folder, "--name", "Trip 2026"))), &res); err != nil {
		t.Fatal(err)
	}
	mustKith(t, getter, "pin", "add", res.Ticket)
	if ls := mustKith(t, getter, "pin", "ls"); !strings.Contains(ls, "Trip 2026") {
		t.Fatalf("pin add TICKET did not pin it under its name:\n%s", ls)
	}
	// A folder got again: the same there, nothing to do; once something
	// was added in it, refused.
	trip := filepath.Join(into, "Trip 2026")
	if out := mustKith(t, getter, "get", res.Ticket, "-o", into); !strings.Contains(out, "saved "+res.Cid+" to "+trip) {
		t.Fatalf("get of the folder into %s: %s", into, out)
	}
	if out := mustKith(t, getter, "get", res.Ticket, "-o", into); !strings.Contains(out, trip+" holds "+res.Cid+" already") {
		t.Fatalf("the folder got again: %s", out)
	}
	if err := os.WriteFile(filepath.Join(trip, "b.txt"), []byte("b"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := runKith(t, getter, "get", res.Ticket, "-o", into); err == nil || !strings.Contains(stderr, trip+" already exists") {
		t.Fatalf("get of the folder over one that holds more: %v: %s", err, stderr)
	}
	// -o naming a folder a get of it wrote before (it did not exist then):
	// the same get again finds it there, rather than writing it inside.
	again := filepath.Join(t.TempDir(), "again")
	mustKith(t, getter, "get", res.Ticket, "-o", again)
	if out := mustKith(t, getter, "get", res.Ticket, "-o", again); !strings.Contains(out, again+" holds "+res.Cid+" already") {
		t.Fatalf("the folder got again with the same -o: %s", out)
	}
	if _, err := os.Stat(filepath.Join(again, "Trip 2026")); !os.IsNotExist(err) {
		t.Fatalf("got again with the same -o, it was written inside itself: %v", err)
	}
}
