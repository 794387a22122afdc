package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/kith-p2p/kith/blockstore/dag"
	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/web/client"
)

// A friend's first kith get TICKET should not fail because no daemon
// runs (sendme and croc need none): a command that needs the daemon only
// for itself starts one when none is running, and stops it when it ends.
// The daemon is the user's own (the repo, its config), in a process of
// its own group, so that a Ctrl-C reaches the command, which then stops
// the daemon; its standard input is a pipe from the command, and it stops
// when that closes (untilStdinFlag), so it ends with the command even
// when the command is killed.

// untilStdinFlag is the daemon's hidden flag: run until standard input
// closes.
const untilStdinFlag = "until-stdin-closes"

// daemonReadyWait bounds how long a daemon started for a command may take
// to answer (a first run creates the repo).
const daemonReadyWait = 2 * time.Minute

// daemonForRef is daemonFor for get, ls and cat of arg (with group, a
// name the group shares): a CID or ticket, a group's share, or what may
// be the name of a pin (or a path in one); what is none of them (a
// damaged ticket, say) is refused as before, with no daemon started to
// say so.
func (e *env) daemonForRef(ctx context.Context, arg, group, what string) (stop func(), err error) {
	if _, err := parseCID(arg); err != nil && group == "" && !isCode(arg) {
		var notRef notRefError
		if !errors.As(err, &notRef) || !e.hasRepo() {
			return func() {}, nil
		}
		if _, _, err := dag.SplitPath(arg); err != nil {
			return func() {}, nil
		}
		return e.startDaemon(ctx, what, true) // a pin: here
	}
	return e.daemonFor(ctx, what)
}

// daemonForRepo is daemonFor for a command that reads or changes only what
// the repo holds (pin ls, repo stat, gc), as Kubo's work with no daemon:
// the daemon started for it stays off the network (127.0.0.1 only, as
// --profile local runs one), and with no repo yet there is nothing to
// read, and none is made to say so.
func (e *env) daemonForRepo(ctx context.Context, what string) (stop func(), err error) {
	if !e.hasRepo() {
		return func() {}, nil
	}
	return e.startDaemon(ctx, what, true)
}

// hasRepo reports whether the repo was made (its config is there).
func (e *env) hasRepo() bool {
	_, err := os.Stat(node.ConfigPath(e.repo))
	return err == nil
}

// daemonFor makes sure a daemon answers for the repo: the running one, or
// one started for this command (what names it), which stop ends. Any
// other error than no daemon is left for the command to meet and say.
func (e *env) daemonFor(ctx context.Context, what string) (stop func(), err error) {
	return e.startDaemon(ctx, what, false)
}

// startDaemon is daemonFor; offline, a daemon it starts runs on 127.0.0.1
// only.
func (e *env) startDaemon(ctx context.Context, what string, offline bool) (stop func(), err error) {
	running := func() error {
		c, err := e.client()
		if err == nil {
			_, err = c.ID(ctx)
		}
		return err
	}
	if err := running(); !errors.Is(err, client.ErrNoDaemon) {
		return e.holdDaemon(ctx), nil
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("%w, and this one cannot start it (%w)", client.ErrNoDaemon, err)
	}
	fmt.Fprintf(e.stderr, "no kith daemon is running: starting one for this %s (it stops when the %s ends; 'kith daemon' keeps one running)\n", what, what)
	e.started = true
	// Its API on any free port (the command reads it from the repo), and
	// its listen ports too where the configured ones are taken (the flag).
	args := []string{"--repo", e.repo, "daemon", "--" + untilStdinFlag, "--api", "127.0.0.1:0"}
	if offline {
		args = append(args, "--profile", "local")
	}
	cmd := exec.Command(exe, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	// Its output goes to a file, never a pipe: a daemon writing to a pipe
	// whose reader died (this process, killed) would die of SIGPIPE
	// before it could stop cleanly. The file says why it stopped, if it
	// does before it answers.
	out, err := os.CreateTemp("", "kith-daemon-*.log")
	if err != nil {
		return nil, fmt.Errorf("start the kith daemon: %w", err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	ownGroup(cmd)
	if err := cmd.Start(); err != nil {
		out.Close()
		os.Remove(out.Name())
		return nil, fmt.Errorf("start the kith daemon: %w", err)
	}
	// Unlinked at once where a file open can be (read through out): no
	// file stays behind, even if this process is killed. Elsewhere
	// (Windows) once the daemon ended.
	removed := os.Remove(out.Name()) == nil
	exited, said := make(chan struct{}), make(chan string, 1)
	go func() {
		_ = cmd.Wait()
		said <- lastLine(out) // why it stopped, if before it answered
		out.Close()
		if !removed {
			os.Remove(out.Name())
		}
		close(exited)
	}()
	stop = func() {
		stdin.Close() // it shuts down, as it would if this process died
		// ... at once, unless another command that found it running holds
		// it (holdDaemon), or has a request under way: it then stops once
		// that one is done, and this one leaves it to it.
		closed := time.Now()
		kill := time.NewTimer(time.Minute)
		defer kill.Stop()
		look := time.NewTicker(250 * time.Millisecond)
		defer look.Stop()
		for {
			select {
			case <-exited:
				return
			case <-kill.C:
				_ = cmd.Process.Kill()
				<-exited
				return
			case <-look.C:
				if time.Since(closed) > heldAfter && answers(e) {
					return
				}
			}
		}
	}
	deadline := time.NewTimer(daemonReadyWait)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for running() != nil {
		select {
		case <-exited:
			if running() == nil {
				e.started = false
				return func() {}, nil // another started meanwhile (this one found the repo locked)
			}
			return nil, fmt.Errorf("the kith daemon started for this %s stopped: %s", what, <-said)
		case <-deadline.C:
			stop()
			return nil, fmt.Errorf("the kith daemon started for this %s did not answer within %s ('kith log' says why)", what, daemonReadyWait)
		case <-ctx.Done():
			stop()
			return nil, fmt.Errorf("%s stopped while the kith daemon started for it was starting (it stopped too)", what)
		case <-tick.C:
		}
	}
	return stop, nil
}

// heldAfter is how long after its command ended a daemon started for it
// that still answers is taken as held by another command: past the
// second of idle API it waits for (untilStdinLinger), with a margin.
const heldAfter = 2 * untilStdinLinger

// answers reports whether the repo's daemon answers its API now.
func answers(e *env) bool {
	c, err := e.client()
	if err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err = c.ID(ctx)
	return err == nil
}

// holdDaemon has the running daemon, which may be one started for another
// command, stay until this command ends (client.Hold): that one ending
// does not cut this one off. It returns the release; a daemon that does
// not hold (an older kith, or one stopping) is used as it is.
func (e *env) holdDaemon(ctx context.Context) (release func()) {
	c, err := e.client()
	if err != nil {
		return func() {}
	}
	release, err = c.Hold(ctx)
	if err != nil {
		return func() {}
	}
	return release
}

// lastLine is the last line of f, "kith: " cut (the daemon's error),
// read without moving the offset the daemon writes at.
func lastLine(f *os.File) string {
	var b []byte
	if st, err := f.Stat(); err == nil {
		b = make([]byte, min(st.Size(), 64<<10))
		n, _ := f.ReadAt(b, st.Size()-int64(len(b)))
		b = b[:n]
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	line := strings.TrimPrefix(lines[len(lines)-1], "kith: ")
	if line == "" {
		return "it said nothing ('kith log' may)"
	}
	return line
}
