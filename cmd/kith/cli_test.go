package main_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kith-p2p/kith/protocol/group"
)

// TestREADMETour runs the tour of README.md against a real daemon.
func TestREADMETour(t *testing.T) {
	repo := t.TempDir()
	d := startDaemon(t, repo)
	dir := t.TempDir()
	hello := filepath.Join(dir, "hello.txt")
	os.WriteFile(hello, []byte("hello kith\n"), 0o644)

	cid := mustKith(t, repo, "add", "-q", hello)
	if cid != "bafkreicljtzuqjre64mv5kc5pf3plz2wsh2fjhkrof3v6rgdvkdfva24qe" {
		t.Fatalf("add printed %q", cid)
	}
	if ls := mustKith(t, repo, "pin", "ls"); !strings.Contains(ls, cid) || !strings.Contains(ls, "hello.txt") {
		t.Fatalf("pin ls:\n%s", ls)
	}
	if got := mustKith(t, repo, "cat", cid); got != "hello kith" {
		t.Fatalf("cat: %q", got)
	}
	// Several paths: each added, its CID on a line of its own.
	bye := filepath.Join(dir, "bye.txt")
	os.WriteFile(bye, []byte("bye kith\n"), 0o644)
	if both := strings.Fields(mustKith(t, repo, "add", "-q", hello, bye)); len(both) != 2 || both[0] != cid || both[1] == cid {
		t.Fatalf("add of two files printed %q", both)
	}
	// --wrap: several paths in one new folder, one CID.
	wrapped := mustKith(t, repo, "add", "-q", "--wrap", "greetings", hello, bye)
	if ls := mustKith(t, repo, "ls", wrapped); !strings.Contains(ls, "hello.txt") || !strings.Contains(ls, "bye.txt") {
		t.Fatalf("ls of the --wrap folder:\n%s", ls)
	}
	if ls := mustKith(t, repo, "pin", "ls"); !strings.Contains(ls, "greetings") {
		t.Fatalf("the --wrap folder is not pinned as greetings:\n%s", ls)
	}
	// "-" reads standard input: the same bytes, the same CID.
	stdin := exec.Command(kithBin, "--repo", repo, "add", "-q", "-", "--name", "piped.txt")
	stdin.Stdin = strings.NewReader("hello kith\n")
	if got, err := stdin.Output(); err != nil || strings.TrimSpace(string(got)) != cid {
		t.Fatalf("add - printed %q (%v), want %s", got, err, cid)
	}
	out := filepath.Join(dir, "back.txt")
	mustKith(t, repo, "get", cid, "-o", out)
	if b, _ := os.ReadFile(out); string(b) != "hello kith\n" {
		t.Fatalf("get wrote %q", b)
	}

	folder := filepath.Join(dir, "album")
	os.MkdirAll(filepath.Join(folder, "sub"), 0o755)
	os.WriteFile(filepath.Join(folder, "a.jpg"), randomBytes(3<<20), 0o644)
	os.WriteFile(filepath.Join(folder, "sub", "b.txt"), []byte("bee"), 0o644)
	// A folder goes whole: hidden files, and symbolic links as links;
	// except what --exclude names.
	os.WriteFile(filepath.Join(folder, ".notes"), []byte("hidden"), 0o644)
	os.Symlink("a.jpg", filepath.Join(folder, "cover.jpg"))
	os.Symlink("../a.jpg", filepath.Join(folder, "sub", "up.jpg"))
	os.MkdirAll(filepath.Join(folder, ".git"), 0o755)
	os.WriteFile(filepath.Join(folder, ".git", "HEAD"), []byte("ref: main\n"), 0o644)
	os.WriteFile(filepath.Join(folder, "sub", "draft.tmp"), []byte("scratch"), 0o644)
	// A dry run says what the add holds and what each pattern leaves out.
	plan := mustKith(t, repo, "add", "-r", "-n", folder, "--exclude", ".git", "--exclude", "*.tmp")
	for _, want := range []string{"would add " + folder + ": 3 files in 2 folders, 2 symbolic links, 3.0 MiB\n", "would leave out 2:\n  .git/          by .git\n  sub/draft.tmp  by *.tmp"} {
		if !strings.Contains(plan, want) {
			t.Errorf("add --dry-run says:\n%s\nwant %q", plan, want)
		}
	}
	// A ! pattern brings back what an earlier one left out.
	plan = mustKith(t, repo, "add", "-r", "-n", folder, "--exclude", ".git", "--exclude", "*.tmp", "--exclude", "!draft.tmp")
	if want := "would add " + folder + ": 4 files in 2 folders"; !strings.Contains(plan, want) || strings.Contains(plan, "draft.tmp") {
		t.Errorf("add --dry-run with !draft.tmp says:\n%s\nwant %q, and draft.tmp not left out", plan, want)
	}
	root := mustKith(t, repo, "add", "-r", "-q", folder, "--exclude", ".git", "--exclude", "*.tmp")
	ls := mustKith(t, repo, "ls", root)
	for _, want := range []string{"a.jpg", "sub/", ".notes", "cover.jpg -> a.jpg"} {
		if !strings.Contains(ls, want) || strings.Contains(ls, ".git") {
			t.Fatalf("ls (want %q, and no .git):\n%s", want, ls)
		}
	}
	back := filepath.Join(dir, "album-back")
	mustKith(t, repo, "get", root, "-o", back)
	if out, err := exec.Command("diff", "-r", "--no-dereference", "-x", ".git", "-x", "*.tmp", folder, back).CombinedOutput(); err != nil {
		t.Fatalf("folder differs after get: %s", out)
	}
	if target, err := os.Readlink(filepath.Join(back, "sub", "up.jpg")); err != nil || target != "../a.jpg" {
		t.Fatalf("sub/up.jpg after get: %q, %v; want a link to ../a.jpg", target, err)
	}
	for _, left := range []string{".git", filepath.Join("sub", "draft.tmp")} {
		if _, err := os.Lstat(filepath.Join(back, left)); !os.IsNotExist(err) {
			t.Fatalf("%s was excluded but came back: %v", left, err)
		}
	}
	var entries []struct{ Name, Cid, Type, Target string }
	json.Unmarshal([]byte(mustKith(t, repo, "--json", "ls", root)), &entries)
	for _, e := range entries {
		if e.Name != "cover.jpg" {
			continue
		}
		if e.Type != "symlink" || e.Target != "a.jpg" {
			t.Fatalf("ls --json: %+v", e)
		}
		if _, stderr, err := runKith(t, repo, "cat", e.Cid); err == nil || !strings.Contains(stderr, "is a symbolic link to a.jpg, with nothing to read") {
			t.Fatalf("cat of a link: %v: %s", err, stderr)
		}
	}

	car := filepath.Join(dir, "album.car")
	mustKith(t, repo, "export", root, "-o", car)
	other := t.TempDir()
	startDaemon(t, other)
	if got := mustKith(t, other, "import", car); !strings.Contains(got, root) || !strings.Contains(got, " blocks read, each checked against its CID") {
		t.Fatalf("import: %s", got)
	}
	// The pin is named after the CAR file, not "(no name)".
	if ls := mustKith(t, other, "pin", "ls"); !strings.Contains(ls, root) || !strings.Contains(ls, "album") {
		t.Fatalf("pin ls after import:\n%s", ls)
	}
	var st struct{ Blocks, Pins int }
	json.Unmarshal([]byte(mustKith(t, other, "--json", "repo", "stat")), &st)
	if st.Pins != 1 || st.Blocks < 4 {
		t.Fatalf("repo stat after import: %+v", st)
	}
	if v := mustKith(t, repo, "repo", "verify"); !strings.Contains(v, "0 corrupt") {
		t.Fatalf("verify: %s", v)
	}

	mustKith(t, repo, "shutdown")
	<-d.done
	if d.err != nil {
		t.Fatalf("daemon exit after shutdown: %v", d.err)
	}
}

// TestCLIErrors checks that bad input gives one clear line and a non-zero exit.
func TestCLIErrors(t *testing.T) {
	repo := t.TempDir()
	noDaemon := t.TempDir()
	startDaemon(t, repo)
	dir := t.TempDir()
	notAFolder := filepath.Join(dir, "file.txt")
	os.WriteFile(notAFolder, []byte("x"), 0o644)
	unknown := "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
	folder := strings.TrimSpace(mustKith(t, repo, "add", "-q", "-r", dir))
	file := strings.TrimSpace(mustKith(t, repo, "add", "-q", notAFolder))
	stopped := t.TempDir() // a repo that exists, with no daemon on it
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	os.WriteFile(filepath.Join(stopped, "config.json"), []byte(`{"api": {"address": "127.0.0.1:0"}}`), 0o600)
	mustKith(t, repo, "group", "create", "family")
	var self struct {
		PeerID string `json:"peer_id"`
	}
	if err := json.Unmarshal([]byte(mustKith(t, repo, "--json", "id")), &self); err != nil || self.PeerID == "" {
		t.Fatalf("kith id: %v", err)
	}

	var sec group.Secret
	oldToken, err := group.EncodeInvite(group.Invite{Name: "friends", Secret: sec})
	if err != nil {
		t.Fatal(err)
	}

	// On stdin, as users are told to pass it.
	join := exec.Command(kithBin, "--repo", repo, "group", "join", "-")
	join.Stdin = strings.NewReader(oldToken + "\n")
	if out, err := join.CombinedOutput(); err == nil || strings.TrimSpace(string(out)) != "kith: this invite was made by an older kith and never expires; ask a member for a new one (kith group invite friends)" {
		t.Fatalf("join with a token of an older kith: %v: %s", err, out)
	}
	// A repo whose listen port another program holds (without
	// SO_REUSEPORT, so libp2p cannot share it).
	busyP2P, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busyP2P.Close()
	portTaken := t.TempDir()
	os.WriteFile(filepath.Join(portTaken, "config.json"), []byte(fmt.Sprintf(`{"api": {"address": "127.0.0.1:0"}, "network": {"listen_addrs": ["/ip4/127.0.0.1/tcp/%d"], "bootstrap": []}, "dht": {"protocol_prefix": "/kith"}}`, busyP2P.Addr().(*net.TCPAddr).Port)), 0o600)

	tests := []struct {
		name string
		repo string
		args []string
		want string
	}{
		{"missing file", repo, []string{"add", filepath.Join(dir, "nope.txt")}, "no such file or directory"},
		{"unreadable path", repo, []string{"add", filepath.Join(notAFolder, "inside")}, "not a directory"},
		{"folder without -r", repo, []string{"add", dir}, "use -r"},
		{"a folder among several without -r", repo, []string{"add", notAFolder, dir}, "add " + dir + ": it is a folder; use -r to add a folder"},
		{"wrap and name", repo, []string{"add", "--wrap", "w", "--name", "n", notAFolder}, "--wrap names the folder it makes: leave --name out"},
		{"wrap two of a name", repo, []string{"add", "--wrap", "w", notAFolder, filepath.Join(dir, ".", "file.txt")}, `would both be "file.txt": rename one, or add them apart`},
		{"stdin twice", repo, []string{"add", "-", "-"}, "- (standard input) can be read once: give it once"},
		{"one name for several", repo, []string{"add", notAFolder, notAFolder, "--name", "x"}, "--name names one file or folder, and 2 are given"},
		{"exclude a path with ..", repo, []string{"add", "-r", dir, "--exclude", "sub/../x"}, `bad exclude pattern "sub/../x": a path from the top of the folder has no empty, . or .. element (like /build or docs/drafts)`},
		{"malformed CID", repo, []string{"cat", "bafy-not-a-cid"}, `"bafy-not-a-cid" is neither a CID, a kith ticket, a code nor the name of a pin of yours`},
		{"mistyped code", repo, []string{"get", "7961-orbit-canyon-velvetx"}, `"7961-orbit-canyon-velvetx" is no code kith send prints: velvetx is not one of the words codes are made of: check the spelling`},
		{"code short of a word", repo, []string{"get", "7961-orbit-canyon"}, `"7961-orbit-canyon" is no code kith send prints: a code is a number and 3 words; this has 2`},
		{"damaged ticket", repo, []string{"get", "kith1aesac4aseadmsgsrwqstuezn5mztftz476"}, "the ticket is damaged: was it copied whole?"},
		{"unknown CID", repo, []string{"cat", unknown}, "is not in this repo, and no peer gave it. No peers at all: this node is not connected to any peer"},
		{"unknown CID get", repo, []string{"get", unknown, "-o", filepath.Join(dir, "out")}, "No peers at all: this node is not connected to any peer"},
		{"unpin unknown", repo, []string{"pin", "rm", unknown}, "is not pinned"},
		{"unshare what no group shares", repo, []string{"unshare", unknown}, unknown + " is not shared in any of your groups (`kith status` lists what is)"},
		{"no daemon", noDaemon, []string{"id"}, "no kith daemon is running (start it with `kith daemon`)"},
		{"repo locked", repo, []string{"daemon", "--profile", "local", "--api", "127.0.0.1:0"}, "is in use by another kith daemon"},
		{"profile default on an existing repo", stopped, []string{"daemon", "--profile", "default"}, "--profile default only seeds a new repo"},
		{"API port in use", stopped, []string{"daemon", "--profile", "local", "--api", busy.Addr().String()}, "is in use (another kith daemon, or another program): choose another with `kith config set api.address 127.0.0.1:PORT`"},
		{"listen port in use", portTaken, []string{"daemon", "--profile", "local"}, "is in use, perhaps by another kith daemon: choose another with `kith config set network.listen_addrs"},
		{"bad log level", stopped, []string{"daemon", "--log-level", "loud"}, "use debug, info, warn or error"},
		{"config of no repo", noDaemon, []string{"config", "show"}, "there is no config at " + filepath.Join(noDaemon, "config.json") + " yet: `kith daemon` creates the repo"},
		{"config unknown key", repo, []string{"config", "set", "api.adress", "127.0.0.1:5092"}, `"api.adress" is not a config key: did you mean api.address?`},
		{"config key of no kind", repo, []string{"config", "get", "colour"}, "is not a config key (`kith config show` lists them all)"},
		{"config section", repo, []string{"config", "set", "api", "x"}, "api is a section of the config, not one setting"},
		{"config bad value", repo, []string{"config", "set", "dht.mode", "sideways"}, `dht.mode "sideways" is not auto, server or client`},
		{"config bad bool", repo, []string{"config", "set", "network.mdns", "maybe"}, `network.mdns takes true or false, not "maybe"`},
		{"config bad duration", repo, []string{"config", "set", "groups.grace", "soon"}, "groups.grace takes a duration such as 90s"},
		{"config bad multiaddr", repo, []string{"config", "set", "network.listen_addrs", "0.0.0.0:4101"}, `network.listen_addrs: "0.0.0.0:4101" is not a multiaddr`},
		{"config API off loopback", repo, []string{"config", "set", "api.address", "0.0.0.0:5091"}, "the API listens on a loopback address"},
		{"config read-only key", repo, []string{"config", "set", "identity.peer_id", "x"}, "cannot be set"},
		{"log of no repo", noDaemon, []string{"log"}, "there is no log at " + filepath.Join(noDaemon, "logs", "daemon.log") + " yet"},
		{"log bad count", repo, []string{"log", "-n", "-1"}, "-n -1: give a number of lines, 0 or more"},
		{"unknown flag", repo, []string{"get", "--outptu", "x", unknown}, "unknown flag --outptu: did you mean --output?"},
		{"cat of a folder", repo, []string{"cat", folder}, "is a folder: list it with `kith ls`"},
		{"sync a file", repo, []string{"share", notAFolder, "--group", "family", "--sync"}, "is a file: --sync syncs a folder (--watch shares a file as it changes)"},
		{"get over an existing path", repo, []string{"get", folder, "-o", notAFolder}, "already exists: kith never overwrites"},
		{"group join without a token", repo, []string{"group", "join"}, "no invite token given"},
		{"remove nobody", repo, []string{"group", "remove", "family", "nobody"}, `no member matches "nobody" (see kith group members)`},
		{"remove oneself", repo, []string{"group", "remove", "family", self.PeerID}, "is this device: to go, leave the group (kith group leave family)"},
		{"invite with a bad lifetime", repo, []string{"group", "invite", "family", "--expires", "soon"}, `--expires "soon": give days (7d), hours (36h) or minutes (90m)`},
		{"invite for too long", repo, []string{"group", "invite", "family", "--expires", "400d"}, "an invite must expire within 365 days"},
		{"remove from no group", repo, []string{"group", "remove", "friends", "nobody"}, `you are in no group called "friends"`},
		{"unknown command", repo, []string{"frobnicate"}, "unknown command"},
		{"stop for shutdown", repo, []string{"stop"}, `unknown command "stop" for "kith": did you mean "kith shutdown"?`},
		{"a typo of a command", repo, []string{"gte"}, `unknown command "gte" for "kith": did you mean "kith gc" or "kith get"?`},
		{"a typo of a subcommand", repo, []string{"pin", "lsx"}, `unknown command "lsx" for "kith pin": did you mean "kith pin ls"?`},
		{"no such subcommand", repo, []string{"group", "frobnicate"}, `unknown command "frobnicate" for "kith group"`},
		{"missing argument", repo, []string{"cat"}, "`kith cat` needs 1 argument, and was given 0: kith cat CID|NAME"},
		{"ls of a file", repo, []string{"ls", file}, file + " is a file: read it with `kith cat`"},
		{"providers of what only this node has", repo, []string{"dht", "findprovs", file}, "no other peer announces " + file + " (this node has it, and does not list itself)"},
		{"providers of what nobody has", repo, []string{"dht", "findprovs", unknown}, "no providers found for " + unknown},
		{"ls of unknown content", repo, []string{"ls", unknown}, unknown + " is not in this repo, and no peer gave it. No peers at all"},
		// Refused before any fetch: the CID is one no peer has.
		{"get into a missing folder", repo, []string{"get", unknown, "-o", filepath.Join(dir, "nope", "out")}, "the folder " + filepath.Join(dir, "nope") + " does not exist"},
		{"export into a missing folder", repo, []string{"export", folder, "-o", filepath.Join(dir, "nope", "x.car")}, "export: cannot write " + filepath.Join(dir, "nope", "x.car") + ": no such file or directory"},
		{"import a missing file", repo, []string{"import", filepath.Join(dir, "nope.car")}, "import " + filepath.Join(dir, "nope.car") + ": no such file or directory"},
		{"import what is not a CAR", repo, []string{"import", notAFolder}, "not a CAR file, or one cut short"},
		{"connect to a closed port", repo, []string{"connect", "/ip4/127.0.0.1/tcp/1/p2p/12D3KooWK9ncqoRZi1ZVrqrpJeTma8pJKdxA8arDd4aAuZdFNbT7"}, "/ip4/127.0.0.1/tcp/1: connection refused (nothing listens there)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, err := runKith(t, tt.repo, tt.args...)
			if err == nil {
				t.Fatalf("exit 0; stdout %q", stdout)
			}
			// A daemon that fails to start may have logged before (its
			// log lines start with time=); the error is the one other line.
			var kept []string
			for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
				if !strings.HasPrefix(l, "time=") {
					kept = append(kept, l)
				}
			}
			line := strings.Join(kept, "\n")
			if strings.Count(line, "\n") != 0 || strings.Contains(line, `\t`) || strings.Contains(line, `\n`) {
				t.Fatalf("stderr is more than one line, or shows its escapes:\n%s", stderr)
			}
			if !strings.HasPrefix(line, "kith: ") || !strings.Contains(line, tt.want) {
				t.Fatalf("stderr %q does not say %q", line, tt.want)
			}
			for _, leak := range []string{"goroutine ", "panic", "*errors.", "*fs.PathError", "*api.Error", "lstat ", "failed to dial", ".kith-tmp-"} {
				if strings.Contains(stderr, leak) {
					t.Fatalf("stderr shows internals (%q): %s", leak, stderr)
				}
			}
			if strings.Count(line, folder) > 1 || strings.Count(line, unknown) > 1 || strings.Count(line, file) > 1 {
				t.Fatalf("stderr repeats the CID: %s", line)
			}
			for _, kind := range []string{": invalid input", ": unavailable", ": permission denied", ": repo is locked", " not found"} {
				if strings.HasSuffix(line, kind) {
					t.Fatalf("stderr ends with an error kind (%q): %s", kind, line)
				}
			}
		})
	}
	// The log keeps why a daemon did not start.
	logged := mustKith(t, portTaken, "log")
	if !strings.Contains(logged, "daemon did not start: a port of network.listen_addrs") {
		t.Errorf("the log does not say why the daemon did not start:\n%s", logged)
	}
}

// TestCLIErrorsJSON: with --json, an error is also the last line on
// stdout, as an event of kind error.
func TestCLIErrorsJSON(t *testing.T) {
	for _, tt := range []struct {
		args []string
		kind string
	}{
		{[]string{"cat", "bafy-not-a-cid"}, "invalid"},
		{[]string{"id"}, "unavailable"}, // no daemon
	} {
		stdout, _, err := runKith(t, t.TempDir(), append([]string{"--json"}, tt.args...)...)
		if err == nil {
			t.Fatalf("%v: exit 0", tt.args)
		}
		var ev struct{ Type, Error, Kind string }
		if err := json.Unmarshal([]byte(lastLine(stdout)), &ev); err != nil || ev.Type != "error" || ev.Kind != tt.kind || ev.Error == "" {
			t.Fatalf("%v: stdout %q; want an error event of kind %s", tt.args, stdout, tt.kind)
		}
	}
}

// TestDiskFull checks the message when the output cannot be written because
// the disk is full (/dev/full fails every write with ENOSPC).
func TestDiskFull(t *testing.T) {
	repo := t.TempDir()
	startDaemon(t, repo)
	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, randomBytes(1<<20), 0o644)
	cid := mustKith(t, repo, "add", "-q", p)
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no /dev/full on this system")
	}
	defer full.Close()
	cmd := exec.Command(kithBin, "--repo", repo, "cat", cid)
	var errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = full, &errb
	if err := cmd.Run(); err == nil {
		t.Fatal("cat into a full disk exited 0")
	}
	if line := strings.TrimSpace(errb.String()); !strings.HasPrefix(line, "kith: disk full") || strings.Contains(line, "\n") {
		t.Fatalf("stderr %q", errb.String())
	}
}

// TestSIGTERMExitsCleanly checks that the daemon shuts down with exit 0.
func TestSIGTERMExitsCleanly(t *testing.T) {
	repo := t.TempDir()
	d := startDaemon(t, repo)
	if err := d.stop(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, d.log.String())
	}
	// The repo reopens: the lock was released and Badger closed cleanly.
	startDaemon(t, repo)
	mustKith(t, repo, "repo", "stat")
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
