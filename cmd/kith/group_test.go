package main_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// groupRepoConfig is the local profile with group timings short enough to
// watch a grace period pass in a test.
const groupRepoConfig = `{
  "api": {"address": "127.0.0.1:0"},
  "network": {"listen_addrs": ["/ip4/127.0.0.1/tcp/0"], "bootstrap": [], "mdns": false, "port_mapping": false,
    "autonat": false, "hole_punching": false, "relay_client": false},
  "dht": {"mode": "server"},
  "groups": {"heartbeat_interval": "300ms", "grace": "3s", "release_delay": "2s", "sync_interval": "5s"}
}`

type holderStatus struct {
	Cid     string
	State   string
	Reason  string
	Holders []struct{ Peer, State string }
}

// heldBy returns the peers that hold cid according to `kith status` on repo.
func heldBy(t *testing.T, repo, cid string) []string {
	out, _, err := runKith(t, repo, "--json", "status", cid)
	if err != nil {
		return nil
	}
	var sts []holderStatus
	if json.Unmarshal([]byte(out), &sts) != nil || len(sts) == 0 {
		return nil
	}
	var held []string
	for _, h := range sts[0].Holders {
		if h.State == "held" {
			held = append(held, h.Peer)
		}
	}
	return held
}

// TestGroupOfThreeDaemons: three real daemons form a group, one shares a
// file with --copies 2, a holder is killed, and `kith status` shows the
// copy restored on the remaining member after the grace period.
func TestGroupOfThreeDaemons(t *testing.T) {
	repos := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	daemons := make([]*daemon, 3)
	ids := make([]string, 3)
	for i, r := range repos {
		if err := os.WriteFile(filepath.Join(r, "config.json"), []byte(groupRepoConfig), 0o600); err != nil {
			t.Fatal(err)
		}
		daemons[i] = startDaemon(t, r)
		var id struct {
			PeerID string `json:"peer_id"`
		}
		json.Unmarshal([]byte(mustKith(t, r, "--json", "id")), &id)
		ids[i] = id.PeerID
	}
	var inv struct{ Token string }
	if err := json.Unmarshal([]byte(mustKith(t, repos[0], "--json", "group", "create", "family")), &inv); err != nil || !strings.HasPrefix(inv.Token, "kith1-") {
		t.Fatalf("group create gave no token: %v", err)
	}
	// The third device joins with a single-use token of its own (the
	// token alone on stdout, what it allows on stderr).
	single, stderr, err := runKith(t, repos[0], "group", "invite", "family", "--single-use", "--expires", "1d")
	if err != nil || !strings.Contains(stderr, "admits 1 device until") {
		t.Fatalf("group invite: %v: %s", err, stderr)
	}
	for i, r := range repos[1:] {
		tok := inv.Token
		if i == 1 {
			tok = strings.TrimSpace(single)
		}
		// The token goes on stdin so it never shows in a process listing.
		cmd := exec.Command(kithBin, "--repo", r, "group", "join", "-")
		cmd.Stdin = strings.NewReader(tok + "\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("group join: %v: %s", err, out)
		}
	}
	if list := mustKith(t, repos[0], "group", "invites", "family"); !strings.Contains(list, "1 of 1") || !strings.Contains(list, "used up") || !strings.Contains(list, "1 of any") {
		t.Fatalf("group invites:\n%s", list)
	}
	waitFor(t, time.Minute, "three members everywhere", func() bool {
		for _, r := range repos {
			var ms []json.RawMessage
			out, _, err := runKith(t, r, "--json", "group", "members", "family")
			if err != nil || json.Unmarshal([]byte(out), &ms) != nil || len(ms) != 3 {
				return false
			}
		}
		return true
	})

	// kith peers names a member by the name it goes by.
	mustKith(t, repos[1], "group", "rename-me", "anna's laptop")
	waitFor(t, 30*time.Second, "kith peers to name the renamed member", func() bool {
		out, _, err := runKith(t, repos[0], "peers")
		for _, l := range strings.Split(out, "\n") {
			if err == nil && strings.HasPrefix(l, ids[1]+"  anna's laptop  ") {
				return true
			}
		}
		return false
	})

	// A folder, shared as README's Groups section does (no -r needed).
	src := filepath.Join(t.TempDir(), "photos")
	os.Mkdir(src, 0o755)
	os.WriteFile(filepath.Join(src, "photo.bin"), randomBytes(3<<20), 0o644)
	var intent struct{ Cid string }
	if err := json.Unmarshal([]byte(lastLine(mustKith(t, repos[0], "--json", "share", src, "--group", "family", "--copies", "2"))), &intent); err != nil {
		t.Fatal(err)
	}
	var holders []string
	waitFor(t, time.Minute, "2 copies", func() bool {
		holders = heldBy(t, repos[0], intent.Cid)
		return len(holders) == 2
	})

	// Another member brings the folder back by the name it is shared as,
	// as a new device would after the sharer's disk died.
	restored := filepath.Join(t.TempDir(), "restored")
	mustKith(t, repos[2], "get", "photos", "--group", "family", "-o", restored)
	want, err := os.ReadFile(filepath.Join(src, "photo.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(restored, "photo.bin")); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("photos got by name on another member: %d bytes, %v", len(got), err)
	}

	// On a member that holds a copy for the group: `pin ls` shows the
	// group's copy under the share's name, `pin rm` says it is the group's,
	// `pin add` adds the user's own pin beside it and `pin rm` removes only
	// that one.
	holder := ""
	for i := 1; i < 3; i++ {
		if slices.Contains(holders, ids[i]) {
			holder = repos[i]
		}
	}
	if holder == "" {
		t.Fatalf("holders %v include neither member 2 nor 3", holders)
	}
	pinLine := func() string {
		for _, l := range strings.Split(mustKith(t, holder, "pin", "ls"), "\n") {
			if strings.HasPrefix(l, intent.Cid) {
				return l
			}
		}
		return ""
	}
	waitFor(t, 30*time.Second, "the replica in pin ls", func() bool { return strings.Contains(pinLine(), "photos · family · replica") })
	if _, stderr, err := runKith(t, holder, "pin", "rm", intent.Cid); err == nil || !strings.Contains(stderr, "is not your pin: your group family keeps a copy here") {
		t.Fatalf("pin rm of the group's copy: %v: %s", err, stderr)
	}
	mustKith(t, holder, "pin", "add", intent.Cid)
	// The member's pin of what the group keeps is private (not announced
	// in the DHT) unless the member says otherwise.
	if l := pinLine(); !strings.Contains(l, "photos · also kept for family · private") || strings.Contains(l, "replica") {
		t.Fatalf("pin ls after pin add of the group's copy: %q", l)
	}
	mustKith(t, holder, "pin", "add", intent.Cid, "--private=false")
	if l := pinLine(); !strings.Contains(l, "photos · also kept for family") || strings.Contains(l, "private") {
		t.Fatalf("pin ls after pin add --private=false: %q", l)
	}
	if out := mustKith(t, holder, "pin", "add", intent.Cid, "--private"); !strings.Contains(out, "pinned "+intent.Cid+" (private: not announced in the DHT)") {
		t.Errorf("pin add --private says %q", out)
	}
	if l := pinLine(); !strings.Contains(l, "· private") {
		t.Fatalf("pin ls after pin add --private: %q", l)
	}
	mustKith(t, holder, "pin", "rm", intent.Cid)
	if l := pinLine(); !strings.Contains(l, "photos · family · replica") {
		t.Fatalf("pin ls after pin rm of the user's pin: %q", l)
	}

	// Kill a holder other than the member we ask.
	victim := -1
	for i := 1; i < 3; i++ {
		for _, h := range holders {
			if h == ids[i] {
				victim = i
			}
		}
	}
	if victim < 0 {
		t.Fatalf("holders %v include neither member 2 nor 3", holders)
	}
	daemons[victim].kill()
	waitFor(t, time.Minute, "the copy restored after the grace period", func() bool {
		now := heldBy(t, repos[0], intent.Cid)
		if len(now) != 2 {
			return false
		}
		for _, h := range now {
			if h == ids[victim] {
				return false
			}
		}
		return true
	})
	st := mustKith(t, repos[0], "status", intent.Cid)
	if !strings.Contains(st, "held") || !strings.Contains(st, "(this device)") {
		t.Fatalf("status:\n%s", st)
	}
	for _, line := range strings.Split(st, "\n") {
		if strings.TrimRight(line, " ") != line {
			t.Errorf("status line with trailing spaces: %q", line)
		}
	}
	// With no CID, status lists every share with its copies.
	waitFor(t, 30*time.Second, "status to list the share with 2 of 2 copies", func() bool {
		st, _, err := runKith(t, repos[0], "status")
		return err == nil && strings.Contains(st, "photos") && strings.Contains(st, "2 of 2") && strings.Contains(st, intent.Cid)
	})
}

// TestShareInTheOnlyGroup: share and unshare may leave --group out where
// only one group can be meant, and say which groups there are where not.
func TestShareInTheOnlyGroup(t *testing.T) {
	repo := t.TempDir()
	startDaemon(t, repo)
	file := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(file, []byte("shared notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := runKith(t, repo, "share", file); err == nil || !strings.Contains(stderr, "this device is in no group yet: create one with `kith group create NAME`") {
		t.Fatalf("share with no group: %v: %s", err, stderr)
	}
	if _, stderr, err := runKith(t, repo, "group", "members"); err == nil || !strings.Contains(stderr, "this device is in no group yet") {
		t.Fatalf("members with no group: %v: %s", err, stderr)
	}
	mustKith(t, repo, "group", "create", "family")
	out := mustKith(t, repo, "share", file, "--copies", "1")
	if !strings.Contains(out, "in family: 1 copy") {
		t.Fatalf("share in the only group: %s", out)
	}
	c := strings.Fields(out)[1]
	// What a group keeps is not announced in the public DHT.
	if out := mustKith(t, repo, "pin", "ls"); !strings.Contains(out, "notes.txt · also kept for family · private") {
		t.Errorf("pin ls after share does not say the pin is private:\n%s", out)
	}
	// members, invite and invites may leave the group out too.
	if out := mustKith(t, repo, "group", "members"); !strings.Contains(out, "(this device)") {
		t.Fatalf("members of the only group: %s", out)
	}
	if out := mustKith(t, repo, "group", "invite", "--single-use"); !strings.Contains(out, "kith1-") {
		t.Fatalf("invite to the only group: %s", out)
	}
	if out := mustKith(t, repo, "group", "invites"); strings.Count(out, "open") < 2 {
		t.Fatalf("invites of the only group (the creation's and the new one, open): %s", out)
	}
	mustKith(t, repo, "group", "create", "work")
	if _, stderr, err := runKith(t, repo, "share", file); err == nil || !strings.Contains(stderr, "say which group with --group NAME: this device is in family, work") {
		t.Fatalf("share with two groups: %v: %s", err, stderr)
	}
	if _, stderr, err := runKith(t, repo, "group", "members"); err == nil || !strings.Contains(stderr, "say which group with `kith group members NAME`: this device is in family, work") {
		t.Fatalf("members with two groups: %v: %s", err, stderr)
	}
	mustKith(t, repo, "share", file, "--group", "work")
	if _, stderr, err := runKith(t, repo, "unshare", c); err == nil || !strings.Contains(stderr, c+" is shared in family, work: say which with --group NAME") {
		t.Fatalf("unshare of a CID two groups share: %v: %s", err, stderr)
	}
	mustKith(t, repo, "unshare", c, "--group", "work")
	if out := mustKith(t, repo, "unshare", c); !strings.Contains(out, "unshared "+c+" in family") {
		t.Fatalf("unshare in the one group sharing it: %s", out)
	}
}

// TestShareAgainAfterAChange shares a folder, changes it and shares it
// again: the group keeps both versions and the second share says so, with
// the way to keep only the new one; --replace then withdraws the earlier
// version (the sharer's own pin of it stays, and it says how to free it),
// and leaves content of another name alone.
func TestShareAgainAfterAChange(t *testing.T) {
	repo := t.TempDir()
	startDaemon(t, repo)
	mustKith(t, repo, "group", "create", "family")
	dir, write := newFolder(t, "photos")
	shared := func(out string) string {
		t.Helper()
		f := strings.Fields(out)
		if len(f) < 2 || f[0] != "shared" {
			t.Fatalf("share said %q", out)
		}
		return f[1]
	}
	write("a.jpg", "first")
	other := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(other, []byte("notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	notes := shared(mustKith(t, repo, "share", other, "--copies", "1"))
	v1 := shared(mustKith(t, repo, "share", dir, "--copies", "1"))

	write("b.jpg", "second")
	out := mustKith(t, repo, "share", dir, "--copies", "1")
	v2 := shared(out)
	for _, want := range []string{"note: family also keeps an earlier version of photos:", "  " + v1 + "  5 B  shared ", "share it again with --replace"} {
		if !strings.Contains(out, want) {
			t.Errorf("sharing a changed folder again says\n%s\nwant %q", out, want)
		}
	}
	if got := sharedCIDs(t, repo); got != strings.Join(sortedStrings(notes, v1, v2), " ") {
		t.Fatalf("after sharing again the group keeps %s, want both versions and notes", got)
	}
	// Got by its name, photos is the newest version; a note gives the
	// other's CID.
	got := filepath.Join(t.TempDir(), "photos")
	if _, stderr, err := runKith(t, repo, "get", "photos", "--group", "family", "-o", got); err != nil ||
		!strings.Contains(stderr, "note: family keeps 2 versions of photos: this is the newest, shared ") || !strings.Contains(stderr, "the others, newest first: "+v1+" (5 B, ") {
		t.Errorf("get of a name shared twice: %v: %s", err, stderr)
	}
	if b, err := os.ReadFile(filepath.Join(got, "b.jpg")); err != nil || string(b) != "second" {
		t.Errorf("get of a name shared twice wrote b.jpg = %q, %v; want the newest version's", b, err)
	}

	out = mustKith(t, repo, "share", dir, "--copies", "1", "--replace")
	if shared(out) != v2 {
		t.Fatalf("the unchanged folder shared again is %s, want %s", shared(out), v2)
	}
	for _, want := range []string{"family no longer keeps the earlier photos", "  " + v1 + "  5 B  shared ", "  kith pin rm " + v1} {
		if !strings.Contains(out, want) {
			t.Errorf("share --replace says\n%s\nwant %q", out, want)
		}
	}
	if strings.Contains(out, "note:") {
		t.Errorf("share --replace still notes earlier versions:\n%s", out)
	}
	if got := sharedCIDs(t, repo); got != strings.Join(sortedStrings(notes, v2), " ") {
		t.Fatalf("after --replace the group keeps %s, want the new version and notes", got)
	}
	if out := mustKith(t, repo, "pin", "ls"); !strings.Contains(out, v1) {
		t.Errorf("after --replace the sharer's own pin of the earlier version is gone:\n%s", out)
	}
	// Shared again with nothing earlier: no note, nothing replaced.
	out = mustKith(t, repo, "share", dir, "--copies", "1", "--replace")
	if strings.Contains(out, "earlier") {
		t.Errorf("a share with no earlier version mentions one:\n%s", out)
	}

	// One version: got by its name, and a file inside it by its path.
	into := t.TempDir()
	if out := mustKith(t, repo, "get", "photos", "--group", "family", "-o", into); !strings.Contains(out, "saved "+v2+" to "+filepath.Join(into, "photos")) {
		t.Errorf("get photos --group family says:\n%s", out)
	}
	if b, err := os.ReadFile(filepath.Join(into, "photos", "b.jpg")); err != nil || string(b) != "second" {
		t.Errorf("photos got by name holds b.jpg = %q (%v)", b, err)
	}
	if out := mustKith(t, repo, "ls", "photos", "--group", "family"); !strings.Contains(out, "a.jpg") || !strings.Contains(out, "b.jpg") {
		t.Errorf("ls photos --group family:\n%s", out)
	}
	if out := mustKith(t, repo, "cat", "photos/b.jpg", "--group", "family"); out != "second" {
		t.Errorf("cat photos/b.jpg --group family: %q", out)
	}
	mustKith(t, repo, "get", "photos/a.jpg", "--group", "family", "-o", into)
	if b, err := os.ReadFile(filepath.Join(into, "a.jpg")); err != nil || string(b) != "first" {
		t.Errorf("photos/a.jpg got by name: %q (%v)", b, err)
	}
	for _, tc := range []struct{ args, want string }{
		{"get videos --group family", "family shares nothing named videos that this device has heard of (a share made a moment ago on another device reaches it within seconds; 'kith status' lists what your groups share)"},
		{"get Photos --group family", "family shares nothing named Photos; did you mean photos?"},
		{"get photos --group work", "you are in no group called work ('kith group ls' lists yours)"},
		{"get photos/c.jpg --group family", `holds no "c.jpg"`},
	} {
		if _, stderr, err := runKith(t, repo, strings.Fields(tc.args)...); err == nil || !strings.Contains(stderr, tc.want) {
			t.Errorf("kith %s: %v: %s, want %q", tc.args, err, stderr, tc.want)
		}
	}
}

// sharedCIDs lists, sorted, the CIDs the repo's groups share.
func sharedCIDs(t *testing.T, repo string) string {
	t.Helper()
	var sts []struct {
		Cid string `json:"cid"`
	}
	if err := json.Unmarshal([]byte(mustKith(t, repo, "--json", "status")), &sts); err != nil {
		t.Fatal(err)
	}
	var cids []string
	for _, st := range sts {
		cids = append(cids, st.Cid)
	}
	return strings.Join(sortedStrings(cids...), " ")
}

func sortedStrings(s ...string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
