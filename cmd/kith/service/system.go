package service

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"time"
)

// system is what the managers need of the machine; tests replace it.
type system struct {
	home     string
	uid      int
	getenv   func(string) string
	lookPath func(string) (string, error)
	// run runs a command and returns what it printed (stdout and stderr).
	run    func(ctx context.Context, name string, args ...string) (string, error)
	daemon Daemon
	// Windows only: the current user's Run registry key, and a way to
	// start the daemon detached from this console.
	runKey runKey
	start  func(exe string, args []string) error
}

// commandTimeout bounds each service-manager command: none should take
// long, and a hung one must not hang `kith service`.
const commandTimeout = 90 * time.Second

func realSystem(d Daemon) *system {
	home, _ := os.UserHomeDir()
	s := &system{
		home:     home,
		uid:      os.Getuid(),
		getenv:   os.Getenv,
		lookPath: exec.LookPath,
		daemon:   d,
		run: func(ctx context.Context, name string, args ...string) (string, error) {
			ctx, cancel := context.WithTimeout(ctx, commandTimeout)
			defer cancel()
			out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
			return string(out), err
		},
	}
	platformSystem(s)
	return s
}

// runCommand runs c (its fallback when it fails) and says what failed in
// the words the command printed.
func (s *system) runCommand(ctx context.Context, c Command) error {
	out, err := s.run(ctx, c.Args[0], c.Args[1:]...)
	if err != nil && c.Fallback != nil {
		out, err = s.run(ctx, c.Fallback[0], c.Fallback[1:]...)
		if err != nil {
			return commandError(c.Fallback, out, err)
		}
	}
	if err != nil {
		return commandError(c.Args, out, err)
	}
	return nil
}

// commandError is a failed command as one line: the command and what it
// printed, else how it ended.
func commandError(args []string, out string, err error) error {
	msg := strings.Join(strings.Fields(strings.ReplaceAll(strings.TrimSpace(out), "\n", "; ")), " ")
	if len(msg) > 300 {
		msg = msg[:297] + "..."
	}
	if msg == "" {
		msg = err.Error()
	}
	return &cmdError{args: args, msg: msg, err: err}
}

// cmdError is a service-manager command that failed: what it printed,
// with how it ended underneath.
type cmdError struct {
	args []string
	msg  string
	err  error
}

func (e *cmdError) Error() string { return shellJoin(e.args) + ": " + e.msg }
func (e *cmdError) Unwrap() error { return e.err }

// runAll runs commands in order, stopping at the first required one that
// fails.
func (s *system) runAll(ctx context.Context, cmds []Command) error {
	for _, c := range cmds {
		if err := s.runCommand(ctx, c); err != nil && !c.Optional {
			return err
		}
	}
	return nil
}

// installFile carries out a plan that writes a file: p.Before, the file,
// p.After. When a step fails, the old file (or none) is put back and
// p.rollback runs, so nothing is left half-way.
func (s *system) installFile(ctx context.Context, p *Plan) error {
	old, err := os.ReadFile(p.Path)
	had := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read %s: %w", p.Path, err)
	}
	if err := s.runAll(ctx, p.Before); err != nil {
		return err
	}
	if err := writeFile(p.Path, p.Content); err != nil {
		return err
	}
	if err := s.runAll(ctx, p.After); err != nil {
		if had {
			_ = writeFile(p.Path, string(old))
		} else {
			_ = os.Remove(p.Path)
		}
		for _, c := range p.rollback {
			_ = s.runCommand(ctx, c)
		}
		return err
	}
	return nil
}

// uninstallFile carries out a plan that removes a file.
func (s *system) uninstallFile(ctx context.Context, p *Plan) error {
	if err := s.runAll(ctx, p.Before); err != nil {
		return err
	}
	if err := os.Remove(p.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", p.Path, err)
	}
	return s.runAll(ctx, p.After)
}

// fileStatus reads what is installed at path and compares it with want.
func fileStatus(path, want string) (installed, current bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return false, false
	}
	return true, want != "" && string(b) == want
}
