//go:build linux

package netlab

import (
	"bytes"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// stopGrace is how long Stop waits after SIGTERM before SIGKILL.
const stopGrace = 15 * time.Second

// A Process is a command started by Start. Cleanup stops it, and prints its
// output when the test failed.
type Process struct {
	cmd  *exec.Cmd
	out  *lockedBuffer // nil when the caller took stdout or stderr
	done chan struct{}
	err  error
}

// Start starts cmd (usually from Namespace.Command) in a process group of
// its own and stops it at the end of the test. If cmd has neither Stdout
// nor Stderr, both are captured: see Output. It fails the test if cmd does
// not start.
func Start(t testing.TB, cmd *exec.Cmd) *Process {
	t.Helper()
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	p := &Process{cmd: cmd, done: make(chan struct{})}
	if cmd.Stdout == nil && cmd.Stderr == nil {
		p.out = &lockedBuffer{}
		cmd.Stdout, cmd.Stderr = p.out, p.out
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("netlab: start %s: %v", p, err)
	}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() && p.out != nil {
			t.Logf("output of %s:\n%s", p, p.out.String())
		}
	})
	return p
}

func (p *Process) String() string { return strings.Join(p.cmd.Args, " ") }

// Pid returns the process's id, which is also its process group's.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err returns how the process exited (nil for status 0); call it after Done
// is closed.
func (p *Process) Err() error { return p.err }

// Output returns what the process has written so far to its captured
// stdout and stderr ("" if the caller took them).
func (p *Process) Output() string {
	if p.out == nil {
		return ""
	}
	return p.out.String()
}

// Stop sends SIGTERM to the process group, then SIGKILL if the process has
// not exited after 15 s, waits for it and returns how it exited. It may be
// called more than once.
func (p *Process) Stop() error {
	select {
	case <-p.done:
		return p.err
	default:
	}
	pgid := p.cmd.Process.Pid
	syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopGrace):
		syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.done
	}
	return p.err
}

// lockedBuffer is a bytes.Buffer that a process writes while a test reads.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
