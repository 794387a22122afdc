//go:build linux

package netlab_test

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kith-p2p/kith/cmd/kith/internet/netlab"
)

// helper is one of main_test.go's helper programs running in a namespace.
type helper struct {
	t     *testing.T
	name  string
	p     *netlab.Process
	stdin io.WriteCloser
	lines chan string // stdout, closed when it ends; unread lines beyond 4096 stall the helper
}

// startHelper runs the test binary as helper program args[0] in ns.
func startHelper(t *testing.T, ns *netlab.Namespace, args ...string) *helper {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := ns.Command(self, args...)
	cmd.Env = append(os.Environ(), "NETLAB_HELPER=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	// A pipe of our own rather than StdoutPipe: Wait, which Start calls at
	// once, would close StdoutPipe's reading end when the helper exits,
	// losing its last lines.
	stdout, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = w, stderr
	h := &helper{t: t, name: ns.Name() + ": " + strings.Join(args, " "), stdin: stdin, lines: make(chan string, 4096)}
	h.p = netlab.Start(t, cmd)
	w.Close()
	go func() {
		defer close(h.lines)
		defer stdout.Close()
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			h.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("stderr of %s:\n%s", h.name, stderr.String())
		}
	})
	return h
}

// send writes a line to the helper's stdin.
func (h *helper) send(line string) {
	h.t.Helper()
	if _, err := io.WriteString(h.stdin, line+"\n"); err != nil {
		h.t.Fatalf("%s: %v", h.name, err)
	}
}

// expect returns the next line that starts with prefix, skipping others,
// and fails the test if none comes within timeout.
func (h *helper) expect(prefix string, timeout time.Duration) string {
	h.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case line, ok := <-h.lines:
			if !ok {
				<-h.p.Done()
				h.t.Fatalf("%s ended (%v) before printing %q", h.name, h.p.Err(), prefix)
			}
			if strings.HasPrefix(line, prefix) {
				return line
			}
		case <-deadline:
			h.t.Fatalf("%s printed no %q within %s", h.name, prefix, timeout)
		}
	}
}

// fields splits the line h expects after prefix into its words.
func (h *helper) fields(prefix string, timeout time.Duration) []string {
	h.t.Helper()
	return strings.Fields(h.expect(prefix, timeout))
}

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
