package main_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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

	send := exec.Command(kithBin, "--repo", sender, "send", src)
	stdout, err := send.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	send.Stderr = &stderr
	if err := send.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { send.Process.Kill(); send.Wait() })
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var said []string
	// await reads what send says until a line holds want, and returns it.
	await := func(want string) string {
		t.Helper()
		timeout := time.After(60 * time.Second)
		for {
			select {
			case line, ok := <-lines:
				if !ok {
					t.Fatalf("send ended before saying %q; it said:\n%s\nstderr:\n%s", want, strings.Join(said, "\n"), stderr.String())
				}
				said = append(said, line)
				if strings.Contains(line, want) {
					return line
				}
			case <-timeout:
				t.Fatalf("send did not say %q within 60 s; it said:\n%s", want, strings.Join(said, "\n"))
			}
		}
	}
	await("sending ")
	await("on the other computer, run:")
	ticket, ok := strings.CutPrefix(strings.TrimSpace(await("kith get kith1")), "kith get ")
	if !ok {
		t.Fatalf("no ticket in:\n%s", strings.Join(said, "\n"))
	}
	await("serving it until you press Ctrl-C")
	if !strings.Contains(stderr.String(), "starting one for this send") {
		t.Errorf("send with no daemon says on stderr:\n%s", stderr.String())
	}

	out := filepath.Join(t.TempDir(), "holiday.bin")
	mustKith(t, friend, "get", ticket, "-o", out)
	sameFile(t, out, src)
	await("is downloading it")
	await("stopped asking, after 6.0 MiB of 6.0 MiB")

	if err := send.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	await("stopped serving it")
	if err := send.Wait(); err != nil {
		t.Fatalf("send stopped with Ctrl-C: %v\nstderr:\n%s", err, stderr.String())
	}
	waitFor(t, 30*time.Second, "the daemon started for the send to stop", func() bool {
		_, err := os.Stat(filepath.Join(sender, "api"))
		return os.IsNotExist(err)
	})
	if _, errOut, err := runKith(t, sender, "send", src, src); err == nil || !strings.Contains(errOut, "name it with --wrap NAME") {
		t.Errorf("send of two paths without --wrap: %v %s", err, errOut)
	}
}
