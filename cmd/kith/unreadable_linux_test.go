package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// nobody is the user a daemon of these tests runs as when the tests run
// as root, whom no file permission stops.
const nobody = 65534

// startDaemonNotRoot starts a daemon on repo that file permissions stop:
// as user nobody when the test runs as root (the repo, the folders given
// and the kith binary made reachable to it), else as the test's user.
func startDaemonNotRoot(t *testing.T, repo string, folders ...string) *daemon {
	t.Helper()
	if os.Geteuid() != 0 {
		return startDaemon(t, repo)
	}
	// nobody must get to the binary, the repo and the folders: each folder
	// on the way is opened to others (the test's own temporary folders),
	// and what nobody writes is its own.
	for _, p := range append([]string{kithBin, repo}, folders...) {
		for d := filepath.Dir(p); d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, p := range append([]string{repo}, folders...) {
		if err := filepath.Walk(p, func(path string, _ os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(path, nobody, nobody)
		}); err != nil {
			t.Fatal(err)
		}
	}
	return startDaemonWith(t, repo, func(c *exec.Cmd) {
		c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
		c.Env = append(os.Environ(), "HOME="+repo)
	})
}

// unreadable makes the file at path one the daemon of startDaemonNotRoot
// may not read (root's, for no one else; or no one's).
func unreadable(t *testing.T, path string) {
	t.Helper()
	if err := os.Lchown(path, 0, 0); err != nil && os.Geteuid() == 0 {
		t.Fatal(err)
	}
	mode := os.FileMode(0o600)
	if os.Geteuid() != 0 {
		mode = 0
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(path, 0o644) }) // t.TempDir removes it
}

// TestShareWatchUnreadable: the first share of a folder followed
// (`kith share --watch`, and --sync) goes on past a file the daemon may
// not read, as Syncthing does: left out, named by the share and by `kith
// watch ls`, and shared once it can be read. Where the group already
// shares the name, leaving it out would read as deleting it for the
// followers: the share fails, naming it, as before.
func TestShareWatchUnreadable(t *testing.T) {
	repo := t.TempDir()
	if err := os.WriteFile(filepath.Join(repo, "config.json"), []byte(watchRepoConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	dir := filepath.Join(root, "docs")
	notes := filepath.Join(root, "notes")
	other := filepath.Join(root, "elsewhere", "docs")
	lost := filepath.Join(notes, "lost+found")
	for _, d := range []string{filepath.Join(dir, "sub"), filepath.Join(notes, "x"), other, lost} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(path, body string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(dir, "a.txt"), "a")
	write(filepath.Join(dir, "sub", "b.txt"), "b")
	write(filepath.Join(dir, "sub", "secret.txt"), "kept from the daemon")
	write(filepath.Join(notes, "n.txt"), "n")
	write(filepath.Join(notes, "x", "locked.db"), "locked")
	write(filepath.Join(other, "private.txt"), "p")
	startDaemonNotRoot(t, repo, root)
	secret := filepath.Join(dir, "sub", "secret.txt")
	unreadable(t, secret)
	unreadable(t, filepath.Join(notes, "x", "locked.db"))
	unreadable(t, filepath.Join(other, "private.txt"))
	unreadable(t, lost) // a folder it may not list, as a disk's lost+found
	mustKith(t, repo, "group", "create", "family")

	out, errOut, err := runKith(t, repo, "share", dir, "--copies", "1", "--watch")
	if err != nil || !strings.Contains(out, "watching "+dir) {
		t.Fatalf("share --watch of a folder with a file the daemon may not read: %v\n%s%s", err, out, errOut)
	}
	if want := "left out 1 file the daemon may not read (the watch tries it again every 10 minutes, and 'kith watch ls' names it until it is shared):\n  sub/secret.txt (permission denied)\n"; !strings.Contains(errOut, want) {
		t.Errorf("share --watch says on stderr:\n%s\nwant:\n%s", errOut, want)
	}
	v1 := strings.Fields(out)[1]
	if ls := mustKith(t, repo, "ls", v1+"/sub"); !strings.Contains(ls, "b.txt") || strings.Contains(ls, "secret") {
		t.Errorf("the version shared holds in sub:\n%s\nwant b.txt alone", ls)
	}
	waitFor(t, 30*time.Second, "watch ls to name the file left out", func() bool {
		return strings.Contains(mustKith(t, repo, "watch", "ls"), "could not read 1 of its files: sub/secret.txt (permission denied: left out while new)")
	})
	if got := sharedCIDs(t, repo); got != v1 {
		t.Errorf("the group shares %s, want the first version %s alone (the look again changed nothing)", got, v1)
	}

	// Readable (and written: the watch would try it again within 10
	// minutes anyway), it is shared.
	if os.Geteuid() == 0 {
		if err := os.Chown(secret, nobody, nobody); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(secret, 0o644); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(secret, later, later); err != nil {
		t.Fatal(err)
	}
	var v2 string
	waitFor(t, 30*time.Second, "the folder shared with the file once readable", func() bool {
		v2 = sharedCIDs(t, repo)
		return v2 != v1 && !strings.Contains(v2, " ")
	})
	if got := mustKith(t, repo, "cat", v2+"/sub/secret.txt"); got != "kept from the daemon" {
		t.Errorf("the new version's sub/secret.txt holds %q", got)
	}
	waitFor(t, 30*time.Second, "watch ls to name no file", func() bool {
		return !strings.Contains(mustKith(t, repo, "watch", "ls"), "could not read")
	})

	// A folder that syncs both ways: the same, and a folder in it that
	// the daemon may not list is left out too.
	out, errOut, err = runKith(t, repo, "share", notes, "--copies", "1", "--sync")
	if err != nil || !strings.Contains(errOut, "left out 2 files the daemon may not read") ||
		!strings.Contains(errOut, "  lost+found (permission denied)\n  x/locked.db (permission denied)\n") {
		t.Fatalf("share --sync of a folder with a file the daemon may not read: %v\n%s%s", err, out, errOut)
	}
	waitFor(t, 30*time.Second, "mirror ls to name the files left out", func() bool {
		return strings.Contains(mustKith(t, repo, "mirror", "ls"), "could not read 2 of its files: lost+found (permission denied: left out while new); x/locked.db")
	})

	// Another folder shared as docs, which the group shares already.
	out, errOut, err = runKith(t, repo, "share", other, "--copies", "1", "--watch")
	if err == nil || !strings.Contains(errOut, "private.txt: permission denied: make it readable, or leave it out with --exclude private.txt") {
		t.Errorf("share --watch of another docs with a file the daemon may not read: %v, says:\n%s%s", err, out, errOut)
	}
}

// TestAddSkipUnreadable: `kith add -r --skip-unreadable` goes on past a
// file the daemon may not read and a folder it may not list, leaves them
// out and names them, as rsync and Syncthing do; the rest is added.
func TestAddSkipUnreadable(t *testing.T) {
	repo := t.TempDir()
	if err := os.WriteFile(filepath.Join(repo, "config.json"), []byte(watchRepoConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	dir := filepath.Join(root, "docs")
	lost := filepath.Join(dir, "lost+found")
	for _, d := range []string{filepath.Join(dir, "sub"), lost} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for rel, body := range map[string]string{"a.txt": "a", "sub/b.txt": "b", "sub/secret.txt": "kept from the daemon", "lost+found/l": "l"} {
		if err := os.WriteFile(filepath.Join(dir, rel), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	startDaemonNotRoot(t, repo, root)
	unreadable(t, filepath.Join(dir, "sub", "secret.txt"))
	unreadable(t, lost)

	out, errOut, err := runKith(t, repo, "add", "-r", "--skip-unreadable", dir)
	if err != nil || !strings.HasPrefix(out, "added ") {
		t.Fatalf("add --skip-unreadable: %v\n%s%s", err, out, errOut)
	}
	if want := "left out 2 files or folders that may not be read:\n  lost+found (permission denied)\n  sub/secret.txt (permission denied)\n"; !strings.Contains(errOut, want) {
		t.Errorf("add --skip-unreadable says on stderr:\n%s\nwant:\n%s", errOut, want)
	}
	root1 := strings.Fields(out)[1]
	if ls := mustKith(t, repo, "ls", root1); !strings.Contains(ls, "a.txt") || strings.Contains(ls, "lost+found") {
		t.Errorf("the folder added holds:\n%s\nwant a.txt and sub, no lost+found", ls)
	}
	if ls := mustKith(t, repo, "ls", root1+"/sub"); !strings.Contains(ls, "b.txt") || strings.Contains(ls, "secret") {
		t.Errorf("the folder added holds in sub:\n%s\nwant b.txt alone", ls)
	}
}
