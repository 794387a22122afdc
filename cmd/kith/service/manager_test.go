package service

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// machine stands for the commands a service manager offers: each command
// line answers with its output in out and fails when it is in fail; calls
// records what ran, in order.
type machine struct {
	out     map[string]string
	fail    map[string]string
	missing []string // programs not on PATH
	calls   []string
	env     map[string]string
}

func (m *machine) system(home string, d Daemon) *system {
	return &system{
		home:   home,
		uid:    501,
		getenv: func(k string) string { return m.env[k] },
		lookPath: func(name string) (string, error) {
			if slices.Contains(m.missing, name) {
				return "", errors.New("not found")
			}
			return "/usr/bin/" + name, nil
		},
		run: func(_ context.Context, name string, args ...string) (string, error) {
			line := strings.Join(append([]string{name}, args...), " ")
			m.calls = append(m.calls, line)
			if out, ok := m.fail[line]; ok {
				return out, errors.New("exit status 1")
			}
			return m.out[line], nil
		},
		daemon: d,
	}
}

// effects are the calls that change something (not the queries).
func (m *machine) effects() []string {
	var e []string
	for _, c := range m.calls {
		if !strings.Contains(c, "show-environment") && !strings.Contains(c, "is-active") &&
			!strings.Contains(c, "is-enabled") && !strings.Contains(c, "launchctl print") && !strings.Contains(c, "loginctl") {
			e = append(e, c)
		}
	}
	return e
}

type fakeDaemon struct {
	running bool
	stopped bool
}

func (d *fakeDaemon) Running(context.Context) bool { return d.running }
func (d *fakeDaemon) Stop(context.Context) error {
	d.stopped, d.running = true, false
	return nil
}

var testSpec = Spec{Exe: "/opt/kith apps/kith", Args: []string{"daemon"}, Env: []string{"KITH_PATH=/data/kith"}, Repo: "/data/kith"}

func TestSystemdInstall(t *testing.T) {
	const unit = "kith.service"
	tests := []struct {
		name        string
		old         string // the unit already there
		m           machine
		daemon      bool // a daemon answers on the repo
		wantErr     string
		wantEffects []string
		wantFile    string // "" means none; "old" the old one
		wantNotes   int
	}{
		{
			name:        "fresh",
			m:           machine{out: map[string]string{"systemctl --user is-active " + unit: "inactive\n"}},
			wantEffects: []string{"systemctl --user daemon-reload", "systemctl --user enable --now " + unit},
			wantFile:    "new",
		},
		{
			name: "update a running service",
			old:  "[Service]\nExecStart=/old/kith daemon\n",
			m:    machine{out: map[string]string{"systemctl --user is-active " + unit: "active\n"}},
			// The daemon that answers is the service's own.
			daemon:      true,
			wantEffects: []string{"systemctl --user daemon-reload", "systemctl --user enable " + unit, "systemctl --user restart " + unit},
			wantFile:    "new",
		},
		{
			name: "enable fails: nothing is left",
			m: machine{fail: map[string]string{"systemctl --user enable --now " + unit: "Failed to enable unit: Unit file kith.service is masked.\n"},
				out: map[string]string{"systemctl --user is-active " + unit: "inactive\n"}},
			wantErr:     "systemctl --user enable --now kith.service: Failed to enable unit: Unit file kith.service is masked.",
			wantEffects: []string{"systemctl --user daemon-reload", "systemctl --user enable --now " + unit, "systemctl --user daemon-reload"},
		},
		{
			name: "restart fails: the old unit is back",
			old:  "[Service]\nExecStart=/old/kith daemon\n",
			m: machine{fail: map[string]string{"systemctl --user restart " + unit: "Job failed.\n"},
				out: map[string]string{"systemctl --user is-active " + unit: "active\n"}},
			daemon:      true,
			wantErr:     "Job failed.",
			wantEffects: []string{"systemctl --user daemon-reload", "systemctl --user enable " + unit, "systemctl --user restart " + unit, "systemctl --user daemon-reload", "systemctl --user restart " + unit},
			wantFile:    "old",
		},
		{
			name:    "no systemd",
			m:       machine{missing: []string{"systemctl"}},
			wantErr: "this system has no systemd (systemctl not found)",
		},
		{
			name: "no user session",
			m: machine{fail: map[string]string{
				"systemctl --user show-environment":  "Failed to connect to bus: No medium found\n",
				"systemctl --user is-active " + unit: "Failed to connect to bus: No medium found\n"}},
			wantErr: "cannot reach your systemd user session (systemctl --user show-environment: Failed to connect to bus: No medium found; there is none as root in a container, or without a login session): run `kith daemon` yourself instead",
		},
		{
			name:    "a daemon of its own holds the repo",
			m:       machine{out: map[string]string{"systemctl --user is-active " + unit: "inactive\n"}},
			daemon:  true,
			wantErr: "a kith daemon already runs on this repo outside the service manager: stop it with `kith shutdown`",
		},
		{
			name: "over SSH without lingering",
			m: machine{env: map[string]string{"SSH_CONNECTION": "192.0.2.1 50000 192.0.2.2 22"},
				out: map[string]string{"systemctl --user is-active " + unit: "inactive\n", "loginctl show-user 501 --property=Linger --value": "no\n"}},
			wantEffects: []string{"systemctl --user daemon-reload", "systemctl --user enable --now " + unit},
			wantFile:    "new",
			wantNotes:   1,
		},
		{
			name: "over SSH, lingering",
			m: machine{env: map[string]string{"SSH_CONNECTION": "192.0.2.1 50000 192.0.2.2 22"},
				out: map[string]string{"systemctl --user is-active " + unit: "inactive\n", "loginctl show-user 501 --property=Linger --value": "yes\n"}},
			wantEffects: []string{"systemctl --user daemon-reload", "systemctl --user enable --now " + unit},
			wantFile:    "new",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			path := filepath.Join(home, ".config", "systemd", "user", unit)
			if tt.old != "" {
				os.MkdirAll(filepath.Dir(path), 0o755)
				os.WriteFile(path, []byte(tt.old), 0o644)
			}
			d := &fakeDaemon{running: tt.daemon}
			s := &Service{m: systemd{tt.m.system(home, d)}, daemon: d}
			p, err := s.Install(context.Background(), testSpec)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one with %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(tt.m.effects(), tt.wantEffects) {
				t.Errorf("ran %q, want %q", tt.m.effects(), tt.wantEffects)
			}
			b, err := os.ReadFile(path)
			switch tt.wantFile {
			case "":
				if err == nil {
					t.Errorf("%s left behind:\n%s", path, b)
				}
			case "old":
				if string(b) != tt.old {
					t.Errorf("unit is %q, want the old one back", b)
				}
			default:
				if string(b) != SystemdUnit(testSpec) {
					t.Errorf("unit is %q, want\n%s", b, SystemdUnit(testSpec))
				}
			}
			if err == nil && p != nil && len(p.Notes) != tt.wantNotes {
				t.Errorf("notes %q, want %d", p.Notes, tt.wantNotes)
			}
			entries, _ := os.ReadDir(filepath.Dir(path))
			for _, e := range entries {
				if e.Name() != unit {
					t.Errorf("stray file %s", e.Name())
				}
			}
		})
	}
}

func TestSystemdInstallRefusesUnstartablePath(t *testing.T) {
	m := &machine{out: map[string]string{"systemctl --user is-active kith.service": "inactive\n"}}
	d := &fakeDaemon{}
	s := &Service{m: systemd{m.system(t.TempDir(), d)}, daemon: d}
	spec := testSpec
	spec.Exe = `/opt/it's/kith`
	if _, err := s.Install(context.Background(), spec); err == nil || !strings.Contains(err.Error(), "move kith to another folder") {
		t.Fatalf("error %v, want the advice to move kith", err)
	}
	if len(m.effects()) > 0 {
		t.Fatalf("ran %q", m.effects())
	}
}

func TestSystemdUninstallAndStatus(t *testing.T) {
	home := t.TempDir()
	m := &machine{out: map[string]string{
		"systemctl --user is-active kith.service":  "active\n",
		"systemctl --user is-enabled kith.service": "enabled\n",
	}}
	d := &fakeDaemon{running: true}
	s := &Service{m: systemd{m.system(home, d)}, daemon: d}
	if _, err := s.Uninstall(context.Background()); !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("uninstall with nothing installed: %v", err)
	}
	path := filepath.Join(home, ".config", "systemd", "user", "kith.service")
	os.MkdirAll(filepath.Dir(path), 0o755)
	os.WriteFile(path, []byte(SystemdUnit(testSpec)), 0o644)

	st := s.Status(context.Background(), testSpec)
	want := Status{Manager: "systemd user service", Path: path, Installed: true, Current: true, Running: true,
		State: "active, enabled", Logs: "journalctl --user -u kith"}
	if st != want {
		t.Fatalf("status %+v, want %+v", st, want)
	}
	other := testSpec
	other.Exe = "/usr/bin/kith"
	if st := s.Status(context.Background(), other); !st.Installed || st.Current {
		t.Fatalf("status for another binary %+v, want installed and not current", st)
	}

	m.calls = nil
	if _, err := s.Uninstall(context.Background()); err != nil {
		t.Fatal(err)
	}
	want1 := []string{"systemctl --user disable --now kith.service", "systemctl --user daemon-reload", "systemctl --user reset-failed kith.service"}
	if !slices.Equal(m.effects(), want1) {
		t.Fatalf("ran %q, want %q", m.effects(), want1)
	}
	if _, err := os.Stat(path); err == nil {
		t.Fatal("unit still there")
	}
}

func TestSystemdXDGConfigHome(t *testing.T) {
	m := &machine{env: map[string]string{"XDG_CONFIG_HOME": "/cfg dir"}}
	if got := (systemd{m.system("/home/ann", &fakeDaemon{})}).unitPath(); got != "/cfg dir/systemd/user/kith.service" {
		t.Fatalf("unit path %s", got)
	}
	m.env["XDG_CONFIG_HOME"] = "relative" // not absolute: ignored, as the XDG spec says
	if got := (systemd{m.system("/home/ann", &fakeDaemon{})}).unitPath(); got != "/home/ann/.config/systemd/user/kith.service" {
		t.Fatalf("unit path %s", got)
	}
}

func TestLaunchdInstall(t *testing.T) {
	const target = "gui/501/io.github.kith-p2p.kith"
	tests := []struct {
		name        string
		m           machine
		wantErr     string
		wantEffects []string
		wantFile    bool
	}{
		{
			name:        "fresh",
			m:           machine{fail: map[string]string{"launchctl print " + target: "Could not find service"}},
			wantEffects: []string{"launchctl bootstrap gui/501 PLIST"},
			wantFile:    true,
		},
		{
			name: "an older launchctl",
			m: machine{fail: map[string]string{"launchctl print " + target: "Could not find service",
				"launchctl bootstrap gui/501 PLIST": "Bootstrap failed: 5: Input/output error"}},
			wantEffects: []string{"launchctl bootstrap gui/501 PLIST", "launchctl load -w PLIST"},
			wantFile:    true,
		},
		{
			name:        "reload a loaded agent",
			m:           machine{out: map[string]string{"launchctl print " + target: "\tstate = running\n\tpid = 4242\n"}},
			wantEffects: []string{"launchctl bootout " + target, "launchctl bootstrap gui/501 PLIST"},
			wantFile:    true,
		},
		{
			name: "both fail: nothing is left",
			m: machine{fail: map[string]string{"launchctl print " + target: "Could not find service",
				"launchctl bootstrap gui/501 PLIST": "Bootstrap failed: 5: Input/output error",
				"launchctl load -w PLIST":           "Load failed: 5: Input/output error"}},
			wantErr:     "launchctl load -w",
			wantEffects: []string{"launchctl bootstrap gui/501 PLIST", "launchctl load -w PLIST"},
		},
		{
			name:    "no login session",
			m:       machine{fail: map[string]string{"launchctl print gui/501": "Bad request.\nCould not find domain for port identifier: 0x0\n", "launchctl print " + target: "Bad request."}},
			wantErr: "no macOS login session for this user (launchctl print gui/501: Bad request.)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := filepath.Join(t.TempDir(), "Ann Lee")
			plist := filepath.Join(home, "Library", "LaunchAgents", "io.github.kith-p2p.kith.plist")
			// The command lines name the plist: write PLIST for it.
			for _, mp := range []map[string]string{tt.m.out, tt.m.fail} {
				for k, v := range mp {
					if strings.Contains(k, "PLIST") {
						delete(mp, k)
						mp[strings.ReplaceAll(k, "PLIST", plist)] = v
					}
				}
			}
			d := &fakeDaemon{running: strings.Contains(tt.m.out["launchctl print "+target], "running")}
			s := &Service{m: launchd{tt.m.system(home, d)}, daemon: d}
			_, err := s.Install(context.Background(), testSpec)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one with %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			effects := strings.ReplaceAll(strings.Join(tt.m.effects(), "\n"), plist, "PLIST")
			if effects != strings.Join(tt.wantEffects, "\n") {
				t.Errorf("ran\n%s\nwant\n%s", effects, strings.Join(tt.wantEffects, "\n"))
			}
			b, err := os.ReadFile(plist)
			if tt.wantFile != (err == nil) {
				t.Fatalf("plist there: %v, want %v", err == nil, tt.wantFile)
			}
			if tt.wantFile && string(b) != LaunchdPlist(testSpec, filepath.Join(home, "Library", "Logs", "kith", "daemon.log")) {
				t.Fatalf("plist:\n%s", b)
			}
		})
	}
}

func TestLaunchdStatus(t *testing.T) {
	home := t.TempDir()
	m := &machine{out: map[string]string{"launchctl print gui/501/io.github.kith-p2p.kith": "io.github.kith-p2p.kith = {\n\tactive count = 1\n\tstate = running\n\tpid = 4242\n}\n"}}
	st := (launchd{m.system(home, &fakeDaemon{})}).status(context.Background(), testSpec)
	if !st.Running || st.State != "running, pid 4242" || st.Installed {
		t.Fatalf("status %+v", st)
	}
	m.out["launchctl print gui/501/io.github.kith-p2p.kith"] = "\tstate = not running\n"
	if st := (launchd{m.system(home, &fakeDaemon{})}).status(context.Background(), testSpec); st.Running || st.State != "not running" {
		t.Fatalf("status %+v", st)
	}
}

// memRunKey is the Run key in memory.
type memRunKey struct {
	values map[string]string
	fail   bool
}

func (r *memRunKey) Get(name string) (string, bool, error) {
	v, ok := r.values[name]
	return v, ok, nil
}
func (r *memRunKey) Set(name, value string) error {
	if r.fail {
		return errors.New("access denied")
	}
	r.values[name] = value
	return nil
}
func (r *memRunKey) Delete(name string) error { delete(r.values, name); return nil }

func TestRunKey(t *testing.T) {
	spec := Spec{Exe: `C:\Program Files\kith\kith.exe`, Args: []string{"daemon"}, Env: []string{`KITH_PATH=D:\kith`}, Repo: `D:\kith`}
	line := `"C:\Program Files\kith\kith.exe" daemon --repo D:\kith --no-console --log-file D:\kith\daemon.log`
	newService := func(reg *memRunKey, d *fakeDaemon, startErr error) (*Service, *[][]string) {
		var started [][]string
		sys := (&machine{}).system(`C:\Users\ann`, d)
		sys.runKey = reg
		sys.start = func(exe string, args []string) error {
			started = append(started, append([]string{exe}, args...))
			return startErr
		}
		return &Service{m: runKeyManager{sys}, daemon: d}, &started
	}

	t.Run("install starts the daemon", func(t *testing.T) {
		reg := &memRunKey{values: map[string]string{}}
		s, started := newService(reg, &fakeDaemon{}, nil)
		if _, err := s.Install(context.Background(), spec); err != nil {
			t.Fatal(err)
		}
		if reg.values["kith"] != line {
			t.Fatalf("Run key holds %q, want %q", reg.values["kith"], line)
		}
		want := [][]string{{spec.Exe, "daemon", "--repo", `D:\kith`, "--no-console", "--log-file", `D:\kith\daemon.log`}}
		if !slices.EqualFunc(*started, want, slices.Equal) {
			t.Fatalf("started %q, want %q", *started, want)
		}
	})
	t.Run("a running daemon is not started twice", func(t *testing.T) {
		reg := &memRunKey{values: map[string]string{}}
		s, started := newService(reg, &fakeDaemon{running: true}, nil)
		if _, err := s.Install(context.Background(), spec); err != nil {
			t.Fatal(err)
		}
		if len(*started) != 0 || reg.values["kith"] != line {
			t.Fatalf("started %q, Run key %q", *started, reg.values["kith"])
		}
	})
	t.Run("a failed start leaves the old value", func(t *testing.T) {
		reg := &memRunKey{values: map[string]string{"kith": `"C:\old\kith.exe" daemon`}}
		s, _ := newService(reg, &fakeDaemon{}, errors.New("file not found"))
		if _, err := s.Install(context.Background(), spec); err == nil || !strings.Contains(err.Error(), "start the daemon") {
			t.Fatalf("error %v", err)
		}
		if reg.values["kith"] != `"C:\old\kith.exe" daemon` {
			t.Fatalf("Run key holds %q", reg.values["kith"])
		}
	})
	t.Run("too long for a Run key", func(t *testing.T) {
		reg := &memRunKey{values: map[string]string{}}
		s, _ := newService(reg, &fakeDaemon{}, nil)
		long := spec
		long.Exe = `C:\` + strings.Repeat(`deep\`, 50) + "kith.exe"
		if _, err := s.Install(context.Background(), long); err == nil || !strings.Contains(err.Error(), "shorter path") {
			t.Fatalf("error %v", err)
		}
		if len(reg.values) != 0 {
			t.Fatalf("Run key written: %q", reg.values)
		}
	})
	t.Run("uninstall stops the daemon", func(t *testing.T) {
		reg := &memRunKey{values: map[string]string{"kith": line}}
		d := &fakeDaemon{running: true}
		s, _ := newService(reg, d, nil)
		if st := s.Status(context.Background(), spec); !st.Installed || !st.Current || !st.Running {
			t.Fatalf("status %+v", st)
		}
		if _, err := s.Uninstall(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, ok := reg.values["kith"]; ok || !d.stopped {
			t.Fatalf("Run key %q, daemon stopped %v", reg.values, d.stopped)
		}
		if _, err := s.Uninstall(context.Background()); !errors.Is(err, ErrNotInstalled) {
			t.Fatalf("second uninstall: %v", err)
		}
	})
}

func TestInstallPlanSaysWhyItWouldFail(t *testing.T) {
	m := &machine{fail: map[string]string{"systemctl --user show-environment": "Failed to connect to bus: No medium found"}}
	d := &fakeDaemon{}
	home := t.TempDir()
	s := &Service{m: systemd{m.system(home, d)}, daemon: d}
	p, err := s.InstallPlan(context.Background(), testSpec)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p.Problem, "No medium found") || p.Content != SystemdUnit(testSpec) {
		t.Fatalf("plan %+v", p)
	}
	if len(m.effects()) > 0 {
		t.Fatalf("a dry run ran %q", m.effects())
	}
	if entries, _ := os.ReadDir(home); len(entries) > 0 {
		t.Fatalf("a dry run wrote %v", entries)
	}
}
