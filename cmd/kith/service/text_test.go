package service

import (
	"encoding/xml"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestSystemdUnit(t *testing.T) {
	head := "# kith's daemon, started at login: written by \"kith service install\",\n# removed by \"kith service uninstall\".\n[Unit]\nDescription=kith peer-to-peer file sharing daemon\nDocumentation=https://github.com/kith-p2p/kith\n\n[Service]\nType=exec\n"
	tail := "Restart=on-failure\nRestartSec=10\n\n[Install]\nWantedBy=default.target\n"
	tests := []struct {
		name string
		spec Spec
		want string // the lines between head and tail
	}{
		{"plain", Spec{Exe: "/usr/local/bin/kith", Args: []string{"daemon"}},
			"ExecStart=/usr/local/bin/kith daemon\n"},
		{"spaces in the path", Spec{Exe: "/home/ann/my apps/kith", Args: []string{"daemon"}},
			"ExecStart=\"/home/ann/my apps/kith\" daemon\n"},
		{"KITH_PATH", Spec{Exe: "/usr/bin/kith", Args: []string{"daemon"}, Env: []string{"KITH_PATH=/data/kith repo"}},
			"ExecStart=/usr/bin/kith daemon\nEnvironment=\"KITH_PATH=/data/kith repo\"\n"},
		{"percent and dollar", Spec{Exe: "/opt/100%$x/kith", Args: []string{"daemon", "--repo", "/r/50% $HOME"}, Env: []string{"KITH_PATH=/r/50% $HOME"}},
			"ExecStart=/opt/100%%$x/kith daemon --repo \"/r/50%% $$HOME\"\nEnvironment=\"KITH_PATH=/r/50%% $HOME\"\n"},
		{"quotes and backslashes", Spec{Exe: `/opt/a"b\c/kith`, Args: []string{"daemon", "--repo", `/r/it's`}},
			`ExecStart="/opt/a\"b\\c/kith" daemon --repo "/r/it's"` + "\n"},
		{"an argument that is a separator", Spec{Exe: "/bin/kith", Args: []string{"daemon", ";", ""}},
			"ExecStart=/bin/kith daemon \";\" \"\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := SystemdUnit(tt.spec), head+tt.want+tail; got != want {
				t.Errorf("unit:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// TestSystemdAnalyzeVerify has systemd check a unit whose program path
// needs every escape: it finds the program only if the quoting is right.
func TestSystemdAnalyzeVerify(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed (apt-get install systemd)")
	}
	// systemd itself refuses a program path with quotes or backslashes
	// (installPlan says so); arguments may hold anything.
	dir := filepath.Join(t.TempDir(), `my apps 100% $HOME; *`)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "ki th")
	copyFile(t, "/bin/true", exe)
	unit := filepath.Join(t.TempDir(), "kith.service")
	repo := `/r/"it's" 100% $HOME \x`
	spec := Spec{Exe: exe, Args: []string{"daemon", "--repo", repo}, Env: []string{"KITH_PATH=" + repo}}
	if err := os.WriteFile(unit, []byte(SystemdUnit(spec)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(sa, "verify", unit).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s\nunit:\n%s", err, out, SystemdUnit(spec))
	}
	// And that it does fail on a program it cannot find.
	spec.Exe += "-missing"
	os.WriteFile(unit, []byte(SystemdUnit(spec)), 0o644)
	if out, err := exec.Command(sa, "verify", unit).CombinedOutput(); err == nil || !strings.Contains(string(out), "-missing") {
		t.Fatalf("systemd-analyze verify accepted a missing program: %v\n%s", err, out)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestLaunchdPlist(t *testing.T) {
	spec := Spec{Exe: "/Users/Ann Lee/Apps & Tools/kith", Args: []string{"daemon"}, Env: []string{"KITH_PATH=/Volumes/<data>/kith"}}
	got := LaunchdPlist(spec, "/Users/Ann Lee/Library/Logs/kith/daemon.log")
	want := `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- kith's daemon, started at login: written by "kith service install",
     removed by "kith service uninstall". -->
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>io.github.kith-p2p.kith</string>
	<key>ProgramArguments</key>
	<array>
		<string>/Users/Ann Lee/Apps &amp; Tools/kith</string>
		<string>daemon</string>
	</array>
	<key>EnvironmentVariables</key>
	<dict>
		<key>KITH_PATH</key>
		<string>/Volumes/&lt;data&gt;/kith</string>
	</dict>
	<key>RunAtLoad</key>
	<true/>
	<key>KeepAlive</key>
	<dict>
		<key>SuccessfulExit</key>
		<false/>
	</dict>
	<key>ThrottleInterval</key>
	<integer>10</integer>
	<key>StandardOutPath</key>
	<string>/Users/Ann Lee/Library/Logs/kith/daemon.log</string>
	<key>StandardErrorPath</key>
	<string>/Users/Ann Lee/Library/Logs/kith/daemon.log</string>
</dict>
</plist>
`
	if got != want {
		t.Fatalf("plist:\n%s\nwant:\n%s", got, want)
	}
	// Well-formed XML whose program arguments read back unchanged.
	var doc struct {
		Strings []string `xml:"dict>array>string"`
	}
	if err := xml.Unmarshal([]byte(got), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Strings) != 2 || doc.Strings[0] != spec.Exe || doc.Strings[1] != "daemon" {
		t.Fatalf("ProgramArguments read back as %q", doc.Strings)
	}
	// Without KITH_PATH there is no environment.
	if plain := LaunchdPlist(Spec{Exe: "/usr/local/bin/kith", Args: []string{"daemon"}}, "/l"); strings.Contains(plain, "EnvironmentVariables") {
		t.Fatalf("plist without an environment has one:\n%s", plain)
	}
}

func TestWindowsCommandLine(t *testing.T) {
	const log = `C:\Users\Ann Lee\AppData\Local\kith\daemon.log`
	tests := []struct {
		name string
		spec Spec
		want string
	}{
		{"plain", Spec{Exe: `C:\kith\kith.exe`, Args: []string{"daemon"}},
			`"C:\kith\kith.exe" daemon --no-console --log-file "C:\Users\Ann Lee\AppData\Local\kith\daemon.log"`},
		{"spaces in the path", Spec{Exe: `C:\Program Files\kith\kith.exe`, Args: []string{"daemon"}},
			`"C:\Program Files\kith\kith.exe" daemon --no-console --log-file "C:\Users\Ann Lee\AppData\Local\kith\daemon.log"`},
		{"KITH_PATH becomes --repo", Spec{Exe: `C:\kith.exe`, Args: []string{"daemon"}, Env: []string{`KITH_PATH=D:\my kith\`}},
			`"C:\kith.exe" daemon --repo "D:\my kith\\" --no-console --log-file "C:\Users\Ann Lee\AppData\Local\kith\daemon.log"`},
		{"--repo is kept", Spec{Exe: `C:\kith.exe`, Args: []string{"daemon", "--repo", `D:\r`}, Env: []string{`KITH_PATH=E:\other`}},
			`"C:\kith.exe" daemon --repo D:\r --no-console --log-file "C:\Users\Ann Lee\AppData\Local\kith\daemon.log"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := WindowsCommandLine(tt.spec.Exe, WindowsArgs(tt.spec, log)); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestWindowsArg(t *testing.T) {
	tests := []struct{ in, want string }{
		{"daemon", "daemon"},
		{"", `""`},
		{`C:\a b`, `"C:\a b"`},
		{`C:\a b\`, `"C:\a b\\"`},
		{`say "hi"`, `"say \"hi\""`},
		{`a\"b c`, `"a\\\"b c"`},
		{`C:\no\spaces\`, `C:\no\spaces\`},
	}
	for _, tt := range tests {
		if got := windowsArg(tt.in); got != tt.want {
			t.Errorf("windowsArg(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestShellJoin(t *testing.T) {
	got := shellJoin([]string{"launchctl", "bootstrap", "gui/501", "/Users/Ann Lee/it's.plist", ""})
	want := `launchctl bootstrap gui/501 '/Users/Ann Lee/it'\''s.plist' ''`
	if got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}
