package main_test

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestSend: `kith send` with no daemon running starts one, adds the file,
// prints the ticket and serves it, saying who downloads it, until Ctrl-C;
// then its daemon stops. A friend's get of the ticket gets the file.
func TestSend(t *testing.T) {
	sender, friend := t.TempDir(), t.TempDir()
	// The sender's repo, made with the local profile, then no daemon.
	d := startDaemon(t, sender)
	if err := d.stop(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { runKith(t, sender, "shutdown") }) // if a test step left one
	startDaemon(t, friend)
	src := filepath.Join(t.TempDir(), "holiday.bin")
	writeRandomFile(t, src, 6<<20)

	send := startSend(t, sender, src)
	send.await("sending ")
	send.await("on the other computer, run:")
	code := send.code()
	ticket := send.ticket()
	send.await("serving it until you press Ctrl-C")
	if !strings.Contains(send.stderr.String(), "starting one for this send") {
		t.Errorf("send with no daemon says on stderr:\n%s", send.stderr.String())
	}

	out := filepath.Join(t.TempDir(), "holiday.bin")
	mustKith(t, friend, "get", ticket, "-o", out)
	sameFile(t, out, src)
	// (A get this quick finished before send looked: it says no more.)
	send.await("has it all: its get finished (6.0 MiB sent from here)")

	// By the code, typed in capitals: the friend finds the sender among
	// its connected peers (the local profile has no DHT to look in).
	mustKith(t, friend, "connect", p2pAddrOf(t, sender))
	byCode := filepath.Join(t.TempDir(), "by-code.bin")
	if _, errOut, err := runKith(t, friend, "get", strings.ToUpper(code), "-o", byCode); err != nil {
		t.Fatalf("get by the code %s: %v\n%s", code, err, errOut)
	} else if !strings.Contains(errOut, "looking for the sender of "+code) {
		t.Errorf("get by the code said on stderr:\n%s", errOut)
	}
	sameFile(t, byCode, src)

	if err := send.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	send.await("stopped serving it")
	if err := send.cmd.Wait(); err != nil {
		t.Fatalf("send stopped with Ctrl-C: %v\nstderr:\n%s", err, send.stderr.String())
	}
	daemonGone(t, sender, "the daemon started for the send to stop")
	if _, errOut, err := runKith(t, sender, "send", src, src); err == nil || !strings.Contains(errOut, "name it with --wrap NAME") {
		t.Errorf("send of two paths without --wrap: %v %s", err, errOut)
	}
}

// TestSendOnce: with --once, send ends by itself once a friend's get
// finished, a get that started a daemon for itself too (which tells the
// sender before it stops), and stops the daemon it started.
func TestSendOnce(t *testing.T) {
	sender, friend := t.TempDir(), t.TempDir()
	for _, repo := range []string{sender, friend} { // local-profile repos, no daemon
		if err := startDaemon(t, repo).stop(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { runKith(t, repo, "shutdown") })
	}
	src := filepath.Join(t.TempDir(), "notes.bin")
	writeRandomFile(t, src, 3<<20)
	send := startSend(t, sender, "--once", src)
	ticket := send.ticket()
	send.await("serving it until a friend has it all, or you press Ctrl-C")
	out := filepath.Join(t.TempDir(), "notes.bin")
	mustKith(t, friend, "get", ticket, "-o", out)
	sameFile(t, out, src)
	send.await("has it all: its get finished")
	send.await("stopped serving it")
	if err := send.cmd.Wait(); err != nil {
		t.Fatalf("send --once: %v\nstderr:\n%s", err, send.stderr.String())
	}
	daemonGone(t, sender, "the daemon started for the send to stop")
}

// TestSendHoldsTheDaemonItFound: a second send finds the daemon the first
// started for itself and holds it: when the first ends (Ctrl-C), that
// daemon serves the second still, between its requests, until it ends
// too; then it stops.
func TestSendHoldsTheDaemonItFound(t *testing.T) {
	sender, friend := t.TempDir(), t.TempDir()
	d := startDaemon(t, sender)
	if err := d.stop(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { runKith(t, sender, "shutdown") })
	startDaemon(t, friend)
	first, second := filepath.Join(t.TempDir(), "first.bin"), filepath.Join(t.TempDir(), "second.bin")
	writeRandomFile(t, first, 1<<20)
	writeRandomFile(t, second, 2<<20)

	a := startSend(t, sender, first)
	a.await("serving it until you press Ctrl-C")
	b := startSend(t, sender, second)
	ticket := b.ticket()
	b.await("serving it until you press Ctrl-C")
	if strings.Contains(b.stderr.String(), "starting one") {
		t.Fatalf("the second send started a daemon of its own:\n%s", b.stderr.String())
	}
	if err := a.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	a.await("stopped serving it")
	if err := a.cmd.Wait(); err != nil {
		t.Fatalf("the first send, stopped with Ctrl-C: %v\n%s", err, a.stderr.String())
	}
	// (Not held, the daemon would be gone now: the first send waited for
	// it to stop.)
	out := filepath.Join(t.TempDir(), "second.bin")
	mustKith(t, friend, "get", ticket, "-o", out)
	sameFile(t, out, second)
	b.await("has it all")
	if err := b.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	b.await("stopped")
	if err := b.cmd.Wait(); err != nil {
		t.Fatalf("the second send, stopped with Ctrl-C: %v\n%s", err, b.stderr.String())
	}
	daemonGone(t, sender, "the daemon started for the first send to stop once the second ended")
}

// daemonGone waits until repo's daemon stopped (its API file is gone).
func daemonGone(t *testing.T, repo, what string) {
	t.Helper()
	waitFor(t, 30*time.Second, what, func() bool {
		_, err := os.Stat(filepath.Join(repo, "api"))
		return os.IsNotExist(err)
	})
}

// sending is a `kith send` the test runs and reads.
type sending struct {
	t      *testing.T
	cmd    *exec.Cmd
	lines  chan string
	said   []string
	stderr *lockedBuffer
}

// lockedBuffer is a bytes.Buffer a command writes while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startSend(t *testing.T, repo string, args ...string) *sending {
	t.Helper()
	s := &sending{t: t, cmd: exec.Command(kithBin, append([]string{"--repo", repo, "send"}, args...)...), lines: make(chan string, 100), stderr: &lockedBuffer{}}
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Stderr = s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.cmd.Process.Kill(); s.cmd.Wait() })
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
		close(s.lines)
	}()
	return s
}

// await reads what the send says until a line holds want, and returns it.
func (s *sending) await(want string) string {
	s.t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case line, ok := <-s.lines:
			if !ok {
				s.t.Fatalf("send ended before saying %q; it said:\n%s\nstderr:\n%s", want, strings.Join(s.said, "\n"), s.stderr.String())
			}
			s.said = append(s.said, line)
			if strings.Contains(line, want) {
				return line
			}
		case <-timeout:
			s.t.Fatalf("send did not say %q within 60 s; it said:\n%s", want, strings.Join(s.said, "\n"))
		}
	}
}

// code is the short code the send prints (before its ticket).
func (s *sending) code() string {
	s.t.Helper()
	line := strings.TrimSpace(s.await("kith get "))
	code, ok := strings.CutPrefix(line, "kith get ")
	if !ok || strings.HasPrefix(code, "kith1") || strings.Count(code, "-") != 3 {
		s.t.Fatalf("no code in %q; it said:\n%s", line, strings.Join(s.said, "\n"))
	}
	return code
}

// ticket is the ticket the send prints.
func (s *sending) ticket() string {
	s.t.Helper()
	ticket, ok := strings.CutPrefix(strings.TrimSpace(s.await("kith get kith1")), "kith get ")
	if !ok {
		s.t.Fatalf("no ticket in:\n%s", strings.Join(s.said, "\n"))
	}
	return ticket
}
