package service

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"
)

// systemdUnitName is the unit `kith service` installs.
const systemdUnitName = "kith.service"

// SystemdUnit is the text of kith's systemd user unit for s.
func SystemdUnit(s Spec) string {
	var b strings.Builder
	b.WriteString(`# kith's daemon, started at login: written by "kith service install",
# removed by "kith service uninstall".
[Unit]
Description=kith peer-to-peer file sharing daemon
Documentation=https://github.com/kith-p2p/kith

[Service]
Type=exec
ExecStart=`)
	b.WriteString(systemdExecWord(s.Exe))
	for _, a := range s.Args {
		// Only arguments are searched for variables, not the program.
		b.WriteString(" " + systemdExecWord(strings.ReplaceAll(a, "$", "$$")))
	}
	b.WriteString("\n")
	for _, kv := range s.Env {
		b.WriteString("Environment=" + systemdQuote(systemdSpecifiers(kv)) + "\n")
	}
	b.WriteString(`Restart=on-failure
RestartSec=10

[Install]
WantedBy=default.target
`)
	return b.String()
}

// systemdExecWord writes one word of ExecStart= so that systemd reads it
// back unchanged: "%" would start a specifier, so it is doubled, and a
// word with blanks, quotes or backslashes is quoted.
func systemdExecWord(a string) string {
	a = systemdSpecifiers(a)
	if a == "" || a == ";" || strings.ContainsAny(a, " \t\"'\\") {
		return systemdQuote(a)
	}
	return a
}

func systemdSpecifiers(s string) string { return strings.ReplaceAll(s, "%", "%%") }

// systemdQuote double-quotes s with the C escapes systemd undoes.
func systemdQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// systemd is the systemd user instance (`systemctl --user`).
type systemd struct{ sys *system }

// unitPath is where user units go: $XDG_CONFIG_HOME/systemd/user, else
// ~/.config/systemd/user.
func (m systemd) unitPath() string {
	dir := m.sys.getenv("XDG_CONFIG_HOME")
	if !path.IsAbs(dir) {
		dir = path.Join(m.sys.home, ".config")
	}
	return path.Join(dir, "systemd", "user", systemdUnitName)
}

func (m systemd) ctl(args ...string) []string {
	return append([]string{"systemctl", "--user"}, args...)
}

func (m systemd) check(ctx context.Context) error {
	if _, err := m.sys.lookPath("systemctl"); err != nil {
		return fmt.Errorf("this system has no systemd (systemctl not found), so kith cannot install itself as a service; run `kith daemon` yourself instead, e.g. from your desktop's autostart or your init system")
	}
	if out, err := m.sys.run(ctx, "systemctl", "--user", "show-environment"); err != nil {
		return fmt.Errorf("cannot reach your systemd user session (%v; there is none as root in a container, or without a login session): run `kith daemon` yourself instead, e.g. from a terminal or your desktop's autostart", commandError(m.ctl("show-environment"), out, err))
	}
	return nil
}

func (m systemd) status(ctx context.Context, s Spec) Status {
	st := Status{Manager: "systemd user service", Path: m.unitPath(), Logs: "journalctl --user -u kith"}
	want := ""
	if s.Exe != "" {
		want = SystemdUnit(s)
	}
	st.Installed, st.Current = fileStatus(st.Path, want)
	if _, err := m.sys.lookPath("systemctl"); err != nil {
		st.State = "unknown"
		return st
	}
	active, err := m.sys.run(ctx, "systemctl", "--user", "is-active", systemdUnitName)
	active = strings.TrimSpace(active)
	if err != nil && active == "" || strings.Contains(active, " ") {
		st.State = "unknown" // no user session: it printed an error
		return st
	}
	st.Running = active == "active" || active == "reloading"
	st.State = active
	if enabled, _ := m.sys.run(ctx, "systemctl", "--user", "is-enabled", systemdUnitName); st.Installed && strings.TrimSpace(enabled) != "" && !strings.Contains(strings.TrimSpace(enabled), " ") {
		st.State += ", " + strings.TrimSpace(enabled)
	}
	return st
}

func (m systemd) installPlan(ctx context.Context, s Spec, st Status) (*Plan, error) {
	if strings.ContainsAny(s.Exe, `"'\`) {
		return nil, fmt.Errorf("systemd cannot start a program whose path holds a quote or a backslash (%s): move kith to another folder, then run `kith service install` again", s.Exe)
	}
	p := &Plan{Manager: st.Manager, Path: st.Path, Content: SystemdUnit(s), Logs: st.Logs}
	p.After = []Command{{Args: m.ctl("daemon-reload")}}
	if st.Running {
		// enable --now leaves a running daemon on the old unit.
		p.After = append(p.After, Command{Args: m.ctl("enable", systemdUnitName)}, Command{Args: m.ctl("restart", systemdUnitName)})
	} else {
		p.After = append(p.After, Command{Args: m.ctl("enable", "--now", systemdUnitName)})
	}
	p.rollback = []Command{{Args: m.ctl("daemon-reload")}}
	if st.Running {
		// A failed restart stopped the daemon: back on the old unit.
		p.rollback = append(p.rollback, Command{Args: m.ctl("restart", systemdUnitName)})
	}
	if note := m.lingerNote(ctx); note != "" {
		p.Notes = append(p.Notes, note)
	}
	return p, nil
}

// lingerNote is the advice to enable lingering, for a user logged in over
// SSH whose user services systemd stops at logout: a headless machine,
// where the daemon should outlive the session. A desktop needs none.
func (m systemd) lingerNote(ctx context.Context) string {
	if m.sys.getenv("SSH_CONNECTION") == "" {
		return ""
	}
	out, err := m.sys.run(ctx, "loginctl", "show-user", strconv.Itoa(m.sys.uid), "--property=Linger", "--value")
	if err != nil || strings.TrimSpace(out) != "no" {
		return ""
	}
	return "systemd stops your user services when your last session ends; to keep kith running after you log out of this SSH session, run `loginctl enable-linger`"
}

func (m systemd) install(ctx context.Context, p *Plan, _ Spec) error {
	return m.sys.installFile(ctx, p)
}

func (m systemd) uninstallPlan(_ context.Context, st Status) *Plan {
	return &Plan{
		Manager: st.Manager, Path: st.Path, Logs: st.Logs,
		Before: []Command{{Args: m.ctl("disable", "--now", systemdUnitName)}},
		After: []Command{
			{Args: m.ctl("daemon-reload")},
			{Args: m.ctl("reset-failed", systemdUnitName), Optional: true},
		},
	}
}

func (m systemd) uninstall(ctx context.Context, p *Plan) error {
	return m.sys.uninstallFile(ctx, p)
}
