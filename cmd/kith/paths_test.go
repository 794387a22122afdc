package main_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestContentPaths: wherever a CID goes, a path into its folder goes too
// (CID/a/b, /ipfs/CID/a/b, TICKET/a/b), for content held by a peer: cat,
// ls, get (saved under the path's last name), pin add (named so); a name
// that is not there, or a file on the way, says so in a sentence. cat and
// ls read what a connected peer holds without a get first.
func TestContentPaths(t *testing.T) {
	seed, getter := t.TempDir(), t.TempDir()
	startDaemon(t, seed)
	startDaemon(t, getter)
	folder := filepath.Join(t.TempDir(), "trip")
	if err := os.MkdirAll(filepath.Join(folder, "day 1"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"notes.txt": "notes\n", "day 1/beach.txt": "sand\n", "day 1/sea.txt": "salt\n"} {
		if err := os.WriteFile(filepath.Join(folder, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	video := randomBytes(3<<20 + 12345) // many blocks: read through the peer, not only its root
	if err := os.WriteFile(filepath.Join(folder, "day 1", "video.bin"), video, 0o644); err != nil {
		t.Fatal(err)
	}
	var res struct{ Cid, Ticket string }
	if err := json.Unmarshal([]byte(lastLine(mustKith(t, seed, "--json", "add", "-r", folder))), &res); err != nil {
		t.Fatal(err)
	}

	// Through the ticket first: the getter dials the seed, and lists the
	// folder it does not hold, as its own.
	if out := mustKith(t, getter, "ls", res.Ticket); !strings.Contains(out, "notes.txt") || !strings.Contains(out, "day 1/") {
		t.Fatalf("ls TICKET of a folder held by a peer:\n%s", out)
	}
	if got := mustKith(t, getter, "cat", res.Ticket+"/day 1/beach.txt"); got != "sand" {
		t.Fatalf("cat TICKET/day 1/beach.txt = %q", got)
	}
	if got := mustKith(t, getter, "cat", "/ipfs/"+res.Cid+"/notes.txt"); got != "notes" {
		t.Fatalf("cat /ipfs/CID/notes.txt = %q", got)
	}
	if out, stderr, err := runKith(t, getter, "cat", res.Cid+"/day 1/video.bin"); err != nil || out != string(video) {
		t.Fatalf("cat CID/day 1/video.bin: %d bytes of %d, %v: %s", len(out), len(video), err, stderr)
	}
	if out := mustKith(t, getter, "ls", res.Cid+"/day 1"); !strings.Contains(out, "beach.txt") || !strings.Contains(out, "sea.txt") || strings.Contains(out, "notes.txt") {
		t.Fatalf("ls CID/day 1:\n%s", out)
	}
	cwd := t.TempDir()
	for _, ref := range []string{res.Cid + "/day 1/sea.txt", "ipfs://" + res.Cid + "/day 1"} {
		get := exec.Command(kithBin, "--repo", getter, "get", ref)
		get.Dir = cwd
		if out, err := get.CombinedOutput(); err != nil {
			t.Fatalf("get %s: %v: %s", ref, err, out)
		}
	}
	for p, want := range map[string]string{"sea.txt": "salt\n", "day 1/beach.txt": "sand\n", "day 1/sea.txt": "salt\n", "day 1/video.bin": string(video)} {
		if b, err := os.ReadFile(filepath.Join(cwd, p)); err != nil || string(b) != want {
			t.Fatalf("after get, %s holds %.20q (%d bytes), %v; want %.20q", p, b, len(b), err, want)
		}
	}
	// A file the getter does not hold, by its CID alone (connected peers
	// are asked for it), read whole.
	lone := randomBytes(2<<20 + 7)
	loneFile := filepath.Join(t.TempDir(), "lone.bin")
	if err := os.WriteFile(loneFile, lone, 0o644); err != nil {
		t.Fatal(err)
	}
	var loneRes struct{ Cid string }
	if err := json.Unmarshal([]byte(lastLine(mustKith(t, seed, "--json", "add", loneFile))), &loneRes); err != nil {
		t.Fatal(err)
	}
	if out, stderr, err := runKith(t, getter, "cat", loneRes.Cid); err != nil || out != string(lone) {
		t.Fatalf("cat CID of a file a connected peer holds: %d bytes of %d, %v: %s", len(out), len(lone), err, stderr)
	}
	mustKith(t, getter, "pin", "add", res.Cid+"/notes.txt")
	if ls := mustKith(t, getter, "pin", "ls"); !strings.Contains(ls, "notes.txt") {
		t.Fatalf("pin add CID/notes.txt is not named notes.txt:\n%s", ls)
	}

	for _, tt := range []struct{ ref, want string }{
		{res.Cid + "/day 2/beach.txt", res.Cid + ` holds no "day 2"`},
		{res.Cid + "/notes.txt/more", res.Cid + "/notes.txt is a file, not a folder"},
		{res.Cid + "/../etc", "is not a CID, a ticket or a path under one"},
	} {
		if _, stderr, err := runKith(t, getter, "cat", tt.ref); err == nil || !strings.Contains(stderr, tt.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("cat %s: %v: %q, want one line saying %q", tt.ref, err, stderr, tt.want)
		}
	}
}

// TestPinNames: where a CID goes on the command line (ls, cat, get,
// export, status), the name of a pin goes too, with a path into it; a
// name that differs only in case is taken when no pin has it exactly; a
// name two pins have, or none, says so.
func TestPinNames(t *testing.T) {
	repo := t.TempDir()
	startDaemon(t, repo)
	folder := filepath.Join(t.TempDir(), "holiday")
	if err := os.MkdirAll(filepath.Join(folder, "day-1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(folder, "day-1", "notes.txt"), []byte("notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	id := strings.TrimSpace(mustKith(t, repo, "add", "-q", "-r", folder, "--name", "Holiday 2026"))

	if ls := mustKith(t, repo, "ls", "Holiday 2026"); !strings.Contains(ls, "day-1/") {
		t.Fatalf("ls by the pin's name:\n%s", ls)
	}
	if got := mustKith(t, repo, "cat", "holiday 2026/day-1/notes.txt"); strings.TrimSpace(got) != "notes" {
		t.Fatalf("cat by the pin's name, in another case, and a path: %q", got)
	}
	out := t.TempDir()
	get := exec.Command(kithBin, "--repo", repo, "get", "Holiday 2026")
	get.Dir = out
	if b, err := get.CombinedOutput(); err != nil || !strings.Contains(string(b), "saved "+id+" to "+filepath.Join(out, "Holiday 2026")) {
		t.Fatalf("get by the pin's name: %v\n%s", err, b)
	}
	if car := mustKith(t, repo, "export", "Holiday 2026"); len(car) == 0 {
		t.Fatal("export by the pin's name wrote nothing")
	}

	for _, c := range []struct{ args []string }{{[]string{"add", "-q", "--name", "twice", folder + "/day-1/notes.txt"}}, {[]string{"add", "-q", "-r", "--name", "twice", folder}}} {
		mustKith(t, repo, c.args...)
	}
	for args, want := range map[string]string{
		"ls twice":               "2 pins are named twice ('kith pin ls' lists them): give the CID of the one you mean",
		"cat nowhere":            `"nowhere" is neither a CID, a kith ticket, a code nor the name of a pin of yours ('kith pin ls' lists them)`,
		"get nowhere":            `"nowhere" is neither a CID, a kith ticket, a code nor the name of a pin of yours`,
		"status twice":           "2 pins are named twice",
		"get /ipns/not-a-name/x": `"not-a-name" is neither an IPNS name (k51... or 12D3KooW...) nor a domain name (for its DNSLink record)`,
	} {
		if _, stderr, err := runKith(t, repo, strings.Fields(args)...); err == nil || !strings.Contains(stderr, want) {
			t.Errorf("kith %s: %v: %s; want %q", args, err, stderr, want)
		}
	}
}
