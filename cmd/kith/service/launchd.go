package service

import (
	"context"
	"encoding/xml"
	"fmt"
	"os"
	"path"
	"regexp"
	"strconv"
	"strings"
)

// launchdLabel names kith's launchd agent (reverse DNS of the project's
// home, kith-p2p.github.io).
const launchdLabel = "io.github.kith-p2p.kith"

// LaunchdPlist is the text of kith's launchd agent for s, logging to
// logPath: started at load (login), restarted when it exits with an error
// (not after `kith shutdown`, which exits cleanly).
func LaunchdPlist(s Spec, logPath string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- kith's daemon, started at login: written by "kith service install",
     removed by "kith service uninstall". -->
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>` + launchdLabel + `</string>
	<key>ProgramArguments</key>
	<array>
`)
	for _, a := range append([]string{s.Exe}, s.Args...) {
		b.WriteString("\t\t<string>" + xmlText(a) + "</string>\n")
	}
	b.WriteString("\t</array>\n")
	if len(s.Env) > 0 {
		b.WriteString("\t<key>EnvironmentVariables</key>\n\t<dict>\n")
		for _, kv := range s.Env {
			k, v, _ := strings.Cut(kv, "=")
			b.WriteString("\t\t<key>" + xmlText(k) + "</key>\n\t\t<string>" + xmlText(v) + "</string>\n")
		}
		b.WriteString("\t</dict>\n")
	}
	b.WriteString(`	<key>RunAtLoad</key>
	<true/>
	<key>KeepAlive</key>
	<dict>
		<key>SuccessfulExit</key>
		<false/>
	</dict>
	<key>ThrottleInterval</key>
	<integer>10</integer>
	<key>StandardOutPath</key>
	<string>` + xmlText(logPath) + `</string>
	<key>StandardErrorPath</key>
	<string>` + xmlText(logPath) + `</string>
</dict>
</plist>
`)
	return b.String()
}

func xmlText(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// launchd is the launchd domain of the logged-in user (gui/UID).
type launchd struct{ sys *system }

func (m launchd) plistPath() string {
	return path.Join(m.sys.home, "Library", "LaunchAgents", launchdLabel+".plist")
}

func (m launchd) logPath() string {
	return path.Join(m.sys.home, "Library", "Logs", "kith", "daemon.log")
}

func (m launchd) domain() string { return "gui/" + strconv.Itoa(m.sys.uid) }
func (m launchd) target() string { return m.domain() + "/" + launchdLabel }

func (m launchd) check(ctx context.Context) error {
	if _, err := m.sys.lookPath("launchctl"); err != nil {
		return fmt.Errorf("launchctl not found, so kith cannot install itself as a launchd agent; run `kith daemon` yourself instead")
	}
	if out, err := m.sys.run(ctx, "launchctl", "print", m.domain()); err != nil {
		return fmt.Errorf("no macOS login session for this user (%v), which a launch agent needs: log in at the Mac's screen first, or run `kith daemon` yourself instead", commandError([]string{"launchctl", "print", m.domain()}, firstLine(out), err))
	}
	return nil
}

var (
	launchdState = regexp.MustCompile(`(?m)^\s*state = (.+)$`)
	launchdPID   = regexp.MustCompile(`(?m)^\s*pid = (\d+)$`)
)

func (m launchd) status(ctx context.Context, s Spec) Status {
	st := Status{Manager: "launchd agent", Path: m.plistPath(), Logs: m.logPath()}
	want := ""
	if s.Exe != "" {
		want = LaunchdPlist(s, m.logPath())
	}
	st.Installed, st.Current = fileStatus(st.Path, want)
	out, err := m.sys.run(ctx, "launchctl", "print", m.target())
	if err != nil {
		st.State = "not loaded"
		return st
	}
	st.State = "loaded"
	if sm := launchdState.FindStringSubmatch(out); sm != nil {
		st.State = strings.TrimSpace(sm[1])
	}
	st.Running = st.State == "running"
	if pm := launchdPID.FindStringSubmatch(out); pm != nil {
		st.State += ", pid " + pm[1]
	}
	return st
}

func (m launchd) installPlan(_ context.Context, s Spec, st Status) (*Plan, error) {
	p := &Plan{Manager: st.Manager, Path: st.Path, Content: LaunchdPlist(s, m.logPath()), Logs: st.Logs}
	if st.State != "not loaded" {
		// launchd keeps the plist it loaded: reload it.
		p.Before = []Command{{Args: []string{"launchctl", "bootout", m.target()}, Optional: true}}
	}
	p.After = []Command{{
		Args:     []string{"launchctl", "bootstrap", m.domain(), st.Path},
		Fallback: []string{"launchctl", "load", "-w", st.Path},
	}}
	return p, nil
}

func (m launchd) install(ctx context.Context, p *Plan, _ Spec) error {
	// launchd opens the log but does not create its folder.
	if err := os.MkdirAll(path.Dir(m.logPath()), 0o755); err != nil {
		return fmt.Errorf("create the log folder: %w", err)
	}
	return m.sys.installFile(ctx, p)
}

func (m launchd) uninstallPlan(_ context.Context, st Status) *Plan {
	p := &Plan{Manager: st.Manager, Path: st.Path, Logs: st.Logs}
	if st.State != "not loaded" {
		p.Before = []Command{{
			Args:     []string{"launchctl", "bootout", m.target()},
			Fallback: []string{"launchctl", "unload", "-w", st.Path},
		}}
	}
	return p
}

func (m launchd) uninstall(ctx context.Context, p *Plan) error {
	return m.sys.uninstallFile(ctx, p)
}

// firstLine is the first non-empty line of s.
func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return ""
}
