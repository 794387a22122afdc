package service

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// On Windows kith starts at login from the current user's Run registry
// key. A scheduled task (`schtasks /Create /SC ONLOGON`) was the other
// choice, but creating a task with a logon trigger needs an elevated
// prompt on a default installation, while the Run key belongs to the user:
// no administrator, no UAC prompt. What it lacks is a restart after a
// crash; `kith service status` shows whether the daemon runs.

// runKeyPath is the registry key, under HKEY_CURRENT_USER.
const runKeyPath = `Software\Microsoft\Windows\CurrentVersion\Run`

// runKeyValue is the value kith writes in it.
const runKeyValue = "kith"

// runKeyMaxLen is the longest command Windows runs from a Run key.
const runKeyMaxLen = 260

// runKey is the current user's Run key.
type runKey interface {
	// Get returns the value's text, and false when it does not exist.
	Get(name string) (string, bool, error)
	Set(name, value string) error
	Delete(name string) error
}

// WindowsArgs are the daemon's arguments at login: s.Args, the repo named
// on the command line (a Run key cannot set KITH_PATH), the console window
// hidden and the log written to logPath.
func WindowsArgs(s Spec, logPath string) []string {
	args := slices.Clone(s.Args)
	if kp := s.env("KITH_PATH"); kp != "" && !slices.Contains(args, "--repo") {
		args = append(args, "--repo", kp)
	}
	return append(args, "--no-console", "--log-file", logPath)
}

// WindowsCommandLine is the command line the Run key holds: the quoted
// binary, then args quoted as CommandLineToArgvW reads them back.
func WindowsCommandLine(exe string, args []string) string {
	b := []string{`"` + exe + `"`} // a Windows path cannot contain a quote
	for _, a := range args {
		b = append(b, windowsArg(a))
	}
	return strings.Join(b, " ")
}

// windowsArg quotes a as the Microsoft C runtime splits a command line:
// in quotes when it has blanks or quotes, with backslashes doubled where
// they precede a quote (syscall.EscapeArg, which builds only on Windows).
func windowsArg(a string) string {
	if a == "" {
		return `""`
	}
	if !strings.ContainsAny(a, " \t\"") {
		return a
	}
	var b strings.Builder
	b.WriteByte('"')
	slashes := 0
	for i := 0; i < len(a); i++ {
		switch c := a[i]; c {
		case '\\':
			slashes++
		case '"':
			b.WriteString(strings.Repeat(`\`, slashes+1))
			slashes = 0
		default:
			slashes = 0
		}
		b.WriteByte(a[i])
	}
	b.WriteString(strings.Repeat(`\`, slashes))
	b.WriteByte('"')
	return b.String()
}

// runKeyManager starts kith from the Run key.
type runKeyManager struct{ sys *system }

func (m runKeyManager) logPath(s Spec) string {
	if s.Repo == "" {
		return ""
	}
	return strings.TrimRight(s.Repo, `\/`) + `\daemon.log`
}

func (m runKeyManager) check(context.Context) error {
	if m.sys.runKey == nil {
		return fmt.Errorf("cannot open the registry key HKEY_CURRENT_USER\\%s; run `kith daemon` yourself instead", runKeyPath)
	}
	return nil
}

func (m runKeyManager) status(ctx context.Context, s Spec) Status {
	st := Status{Manager: "Run registry key", Path: `HKEY_CURRENT_USER\` + runKeyPath + `\` + runKeyValue, Logs: m.logPath(s)}
	if m.sys.runKey != nil {
		v, ok, err := m.sys.runKey.Get(runKeyValue)
		st.Installed = ok && err == nil
		st.Current = st.Installed && s.Exe != "" && v == WindowsCommandLine(s.Exe, WindowsArgs(s, st.Logs))
	}
	// Windows runs the command at login and forgets it: whether the
	// daemon runs is whether it answers.
	st.Running = m.sys.daemon.Running(ctx)
	st.State = "not running"
	if st.Running {
		st.State = "running"
	}
	return st
}

func (m runKeyManager) installPlan(_ context.Context, s Spec, st Status) (*Plan, error) {
	args := WindowsArgs(s, st.Logs)
	line := WindowsCommandLine(s.Exe, args)
	if len(line) > runKeyMaxLen {
		return nil, fmt.Errorf("the command to start kith at login is %d characters long, more than the %d Windows runs from the registry: move kith.exe, or the repo, to a shorter path", len(line), runKeyMaxLen)
	}
	p := &Plan{Manager: st.Manager, Path: st.Path, Content: line, Logs: st.Logs}
	if !st.Running {
		p.After = []Command{{Args: append([]string{s.Exe}, args...)}}
	}
	return p, nil
}

func (m runKeyManager) install(ctx context.Context, p *Plan, s Spec) error {
	old, had, err := m.sys.runKey.Get(runKeyValue)
	if err != nil {
		return fmt.Errorf("read the registry value %s: %w", p.Path, err)
	}
	if err := m.sys.runKey.Set(runKeyValue, p.Content); err != nil {
		return fmt.Errorf("write the registry value %s: %w", p.Path, err)
	}
	for _, c := range p.After {
		if err := m.sys.start(c.Args[0], c.Args[1:]); err != nil {
			if had {
				_ = m.sys.runKey.Set(runKeyValue, old)
			} else {
				_ = m.sys.runKey.Delete(runKeyValue)
			}
			return fmt.Errorf("start the daemon: %w", err)
		}
	}
	return nil
}

func (m runKeyManager) uninstallPlan(_ context.Context, st Status) *Plan {
	p := &Plan{Manager: st.Manager, Path: st.Path, Logs: st.Logs}
	if st.Running {
		p.After = []Command{{Args: []string{"kith", "shutdown"}}}
	}
	return p
}

func (m runKeyManager) uninstall(ctx context.Context, p *Plan) error {
	if err := m.sys.runKey.Delete(runKeyValue); err != nil {
		return fmt.Errorf("remove the registry value %s: %w", p.Path, err)
	}
	if len(p.After) > 0 {
		if err := m.sys.daemon.Stop(ctx); err != nil {
			return fmt.Errorf("the daemon will no longer start at login, but stopping it failed: %w", err)
		}
	}
	return nil
}
