package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakeBrowserEnv, set to a folder, makes the test binary act as the
// browser `kith ui` starts (through KITH_BROWSER): see fakeBrowser.
const fakeBrowserEnv = "KITH_TEST_FAKE_BROWSER"

// browserReport is what the fake browser tells the test once it has read
// the sign-in page.
type browserReport struct {
	PID     int
	Argv    []string
	Page    string
	Mode    os.FileMode
	DirMode os.FileMode
	Link    string
}

// fakeBrowser does what a browser does with the page `kith ui` hands it:
// it reads the file, follows its refresh to the sign-in link and redeems
// the code from the link's fragment, as the UI's page does. In between it
// reports what it saw on the FIFO dir/ready and waits for the test to write
// to the FIFO dir/go, so the test can look at every process's arguments
// while both `kith ui` and the browser run.
func fakeBrowser(dir string) int {
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "fake browser:", err)
		return 1
	}
	if len(os.Args) != 2 {
		return fail(fmt.Errorf("want one argument, got %q", os.Args[1:]))
	}
	u, err := url.Parse(os.Args[1])
	if err != nil || u.Scheme != "file" {
		return fail(fmt.Errorf("argument %q is not a file URL", os.Args[1]))
	}
	st, err := os.Stat(u.Path)
	if err != nil {
		return fail(err)
	}
	dst, err := os.Stat(filepath.Dir(u.Path))
	if err != nil {
		return fail(err)
	}
	page, err := os.ReadFile(u.Path)
	if err != nil {
		return fail(err)
	}
	m := regexp.MustCompile(`http-equiv="refresh" content="0; url=([^"]+)"`).FindSubmatch(page)
	if m == nil {
		return fail(fmt.Errorf("no refresh in the page:\n%s", page))
	}
	link := html.UnescapeString(string(m[1]))
	rep, _ := json.Marshal(browserReport{PID: os.Getpid(), Argv: os.Args, Page: u.Path, Mode: st.Mode().Perm(), DirMode: dst.Mode().Perm(), Link: link})
	if err := os.WriteFile(filepath.Join(dir, "ready"), rep, 0); err != nil {
		return fail(err)
	}
	if _, err := os.ReadFile(filepath.Join(dir, "go")); err != nil {
		return fail(err)
	}
	lu, err := url.Parse(link)
	if err != nil {
		return fail(err)
	}
	code, ok := strings.CutPrefix(lu.Fragment, "signin=")
	if !ok {
		return fail(fmt.Errorf("link %q carries no code in its fragment", link))
	}
	origin := "http://" + lu.Host
	req, err := http.NewRequest(http.MethodPost, origin+"/api/v1/ui/session", strings.NewReader(code))
	if err != nil {
		return fail(err)
	}
	req.Header.Set("Origin", origin)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fail(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fail(fmt.Errorf("redeem: %s: %s", resp.Status, b))
	}
	return 0
}

// startUI runs `kith ui` on repo with the fake browser, and its temporary
// files in tmp; it returns the command (started) and its stdout.
func startUI(t *testing.T, repo, tmp, browserDir string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(kithBin, append([]string{"--repo", repo, "ui"}, args...)...)
	cmd.Env = append(os.Environ(), "KITH_BROWSER="+self, fakeBrowserEnv+"="+browserDir, "TMPDIR="+tmp)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, &out
}

// readWithin reads the FIFO at path, failing the test after d.
func readWithin(t *testing.T, path string, d time.Duration) []byte {
	t.Helper()
	type result struct {
		b   []byte
		err error
	}
	ch := make(chan result, 1)
	go func() {
		b, err := os.ReadFile(path)
		ch <- result{b, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatal(r.err)
		}
		return r.b
	case <-time.After(d):
		// Unblock the reader so the goroutine ends.
		if f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
		t.Fatalf("nothing on %s within %s", path, d)
		return nil
	}
}

// TestUIKeepsTheCodeOutOfArgv runs `kith ui` with a stand-in browser and,
// while both run, reads every process's command line: the sign-in code is
// in none of them (nor in the environment of kith ui or the browser). The
// browser gets a file:// URL of a private page, which is gone once the
// browser has signed in.
func TestUIKeepsTheCodeOutOfArgv(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	repo := t.TempDir()
	startDaemon(t, repo)
	tmp, fifos := t.TempDir(), t.TempDir()
	for _, name := range []string{"ready", "go"} {
		if err := mkfifo(filepath.Join(fifos, name)); err != nil {
			t.Fatal(err)
		}
	}
	ui, out := startUI(t, repo, tmp, fifos)

	var rep browserReport
	if err := json.Unmarshal(readWithin(t, filepath.Join(fifos, "ready"), time.Minute), &rep); err != nil {
		t.Fatal(err)
	}
	code := rep.Link[strings.Index(rep.Link, "#signin=")+len("#signin="):]
	if len(code) < 43 || strings.Contains(rep.Link, "?") {
		t.Fatalf("sign-in link %q: want the code in the fragment", rep.Link)
	}
	if len(rep.Argv) != 2 || !strings.HasPrefix(rep.Argv[1], "file://") || strings.Contains(rep.Argv[1], code) {
		t.Fatalf("the browser was started with %q, want one file:// URL", rep.Argv)
	}
	if rep.Mode != 0o600 || rep.DirMode&0o077 != 0 || !strings.HasPrefix(rep.Page, tmp) {
		t.Fatalf("sign-in page %s has mode %v in a folder of mode %v, want 0600 in a private folder of %s", rep.Page, rep.Mode, rep.DirMode, tmp)
	}

	// Both kith ui and the browser are running now: look at every process.
	procs, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // gone since, or not ours to read
		}
		var pid int
		fmt.Sscanf(p, "/proc/%d/cmdline", &pid)
		if pid == ui.Process.Pid || pid == rep.PID {
			seen[pid] = len(b) > 0
		}
		if bytes.Contains(b, []byte(code)) {
			t.Errorf("process %d has the sign-in code in its command line: %q", pid, bytes.ReplaceAll(b, []byte{0}, []byte{' '}))
		}
	}
	if !seen[ui.Process.Pid] || !seen[rep.PID] {
		t.Fatalf("read the command lines of kith ui: %v, of the browser: %v", seen[ui.Process.Pid], seen[rep.PID])
	}
	for _, pid := range []int{ui.Process.Pid, rep.PID} {
		env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(env, []byte(code)) {
			t.Errorf("process %d has the sign-in code in its environment", pid)
		}
	}

	// Let the browser sign in; kith ui sees it, removes the page and ends
	// (at the latest when the code expires, should the browser be gone).
	go os.WriteFile(filepath.Join(fifos, "go"), nil, 0)
	if err := ui.Wait(); err != nil {
		t.Fatalf("kith ui: %v\n%s", err, out)
	}
	if !strings.Contains(out.String(), "Signed in") || strings.Contains(out.String(), code) {
		t.Fatalf("kith ui printed:\n%s", out)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Fatalf("kith ui left %v in the temporary folder", left)
	}

	// --revoke ends the session the browser got.
	if got := mustKith(t, repo, "ui", "--revoke"); !strings.Contains(got, "(1 session ended)") {
		t.Fatalf("kith ui --revoke: %s", got)
	}
	var rv struct{ Sessions int }
	if err := json.Unmarshal([]byte(mustKith(t, repo, "--json", "ui", "--revoke")), &rv); err != nil || rv.Sessions != 0 {
		t.Fatalf("kith --json ui --revoke: %+v, %v", rv, err)
	}
}

// TestUIWithoutABrowser covers `kith ui` where no browser opens: --no-open
// prints the link (on stdout, in no process's arguments), and a browser
// that cannot start is one clear error with nothing left behind.
func TestUIWithoutABrowser(t *testing.T) {
	repo := t.TempDir()
	startDaemon(t, repo)

	text := mustKith(t, repo, "ui", "--no-open")
	if !regexp.MustCompile(`\n  http://127\.0\.0\.1:\d+/#signin=[A-Za-z0-9_-]{43}$`).MatchString(text) {
		t.Fatalf("kith ui --no-open printed:\n%s", text)
	}
	var lc struct{ ID, URL, Expires string }
	if err := json.Unmarshal([]byte(mustKith(t, repo, "--json", "ui", "--no-open")), &lc); err != nil || !strings.Contains(lc.URL, "/#signin=") || lc.ID == "" || lc.Expires == "" {
		t.Fatalf("kith --json ui --no-open: %+v, %v", lc, err)
	}

	tmp := t.TempDir()
	cmd := exec.Command(kithBin, "--repo", repo, "ui")
	cmd.Env = append(os.Environ(), "KITH_BROWSER="+filepath.Join(tmp, "no-such-browser"), "TMPDIR="+tmp)
	outb, err := cmd.CombinedOutput()
	out := strings.TrimSpace(string(outb))
	if err == nil || strings.Count(out, "\n") != 0 || !strings.Contains(out, "could not start a browser") || !strings.Contains(out, "kith ui --no-open") {
		t.Fatalf("kith ui without a browser: %v\n%s", err, out)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Fatalf("kith ui left %v in the temporary folder", left)
	}
}
