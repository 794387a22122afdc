package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// serviceEnv is an environment in which `kith service` can reach no
// systemd user session, whatever machine the test runs on, and writes
// only under a temporary home: the tests never install a real service.
func serviceEnv(t *testing.T) (home string, env []string) {
	t.Helper()
	home = filepath.Join(t.TempDir(), "Ann Lee")
	runtimeDir := t.TempDir()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "HOME", "XDG_CONFIG_HOME", "XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS", "KITH_PATH", "SSH_CONNECTION":
			continue
		}
		env = append(env, kv)
	}
	return home, append(env, "HOME="+home, "XDG_RUNTIME_DIR="+runtimeDir,
		"DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(runtimeDir, "no-bus"))
}

// runKithEnv runs kith (bin) with env and returns stdout, stderr and the
// exit error.
func runKithEnv(t *testing.T, bin string, env []string, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// spacedKith is the kith binary under a folder whose name needs quoting
// in a unit file.
func spacedKith(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "my apps 100%")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "kith")
	if err := os.Link(kithBin, bin); err != nil {
		b, err := os.ReadFile(kithBin)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(bin, b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return bin
}

func TestServiceInstallDryRun(t *testing.T) {
	home, env := serviceEnv(t)
	bin := spacedKith(t)
	cfg := filepath.Join(home, "config dir")
	repo := filepath.Join(home, "kith repo")
	env = append(env, "XDG_CONFIG_HOME="+cfg, "KITH_PATH="+repo)

	out, errOut, err := runKithEnv(t, bin, env, "service", "install", "--dry-run")
	if err != nil {
		t.Fatalf("kith service install --dry-run: %v\n%s%s", err, out, errOut)
	}
	unitPath := filepath.Join(cfg, "systemd", "user", "kith.service")
	for _, want := range []string{
		"dry run: nothing is written, nothing is run\n",
		"would write " + unitPath + " (systemd user service):\n",
		"\nExecStart=\"" + strings.ReplaceAll(bin, "%", "%%") + "\" daemon\n",
		"\nEnvironment=\"KITH_PATH=" + repo + "\"\n",
		"\nRestart=on-failure\n",
		"\nWantedBy=default.target\n",
		"then run:\n  systemctl --user daemon-reload\n  systemctl --user enable --now kith.service\n",
		"the daemon would log to: journalctl --user -u kith\n",
		// The test's environment has no user session, and the dry run says
		// what install would meet.
		"but it would fail here: cannot reach your systemd user session",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(home); err == nil {
		t.Fatalf("a dry run created %s", home)
	}

	// --repo goes on the command line, made absolute.
	out, _, err = runKithEnv(t, bin, env, "--repo", "rel", "--json", "service", "install", "--dry-run")
	if err != nil {
		t.Fatal(err)
	}
	var plan struct {
		Path, Content string
		After         []struct{ Args []string }
	}
	if err := json.Unmarshal([]byte(out), &plan); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	wd, _ := os.Getwd()
	if !strings.Contains(plan.Content, "\" daemon --repo "+filepath.Join(wd, "rel")+"\n") || plan.Path != unitPath || len(plan.After) != 2 {
		t.Fatalf("plan %+v", plan)
	}

	// systemd itself accepts the unit and finds the binary through its
	// quoted path.
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze not installed: the unit is not verified by systemd")
		return
	}
	unit := filepath.Join(t.TempDir(), "kith.service")
	if err := os.WriteFile(unit, []byte(plan.Content), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(sa, "verify", unit).CombinedOutput(); err != nil || len(b) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s\n%s", err, b, plan.Content)
	}
}

func TestServiceWithoutServiceManager(t *testing.T) {
	home, env := serviceEnv(t)
	tests := []struct {
		name string
		env  []string
		want string
	}{
		{"no user session", env, "kith: cannot reach your systemd user session (systemctl --user show-environment: "},
		{"no systemd", append(env, "PATH="+t.TempDir()), "kith: this system has no systemd (systemctl not found)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, err := runKithEnv(t, kithBin, tt.env, "service", "install")
			if err == nil {
				t.Fatalf("install succeeded:\n%s", out)
			}
			if !strings.HasPrefix(errOut, tt.want) || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "run `kith daemon` yourself instead") {
				t.Fatalf("stderr %q, want one line starting %q that says how to run the daemon instead", errOut, tt.want)
			}
			if _, err := os.Stat(home); err == nil {
				t.Fatalf("a failed install wrote under %s", home)
			}

			out, errOut, err = runKithEnv(t, kithBin, tt.env, "service", "status")
			if err != nil {
				t.Fatalf("status: %v\n%s", err, errOut)
			}
			for _, want := range []string{"service:   systemd user service, " + filepath.Join(home, ".config/systemd/user/kith.service"),
				"installed: no (`kith service install` installs it)", "running:   unknown", "daemon:    not answering on repo " + filepath.Join(home, ".kith"),
				"problem:   " + strings.TrimPrefix(tt.want, "kith: ")} {
				if !strings.Contains(out, want) {
					t.Errorf("status lacks %q:\n%s", want, out)
				}
			}

			out, _, err = runKithEnv(t, kithBin, tt.env, "service", "uninstall")
			if err != nil || out != "kith is not installed as a login service: nothing to remove\n" {
				t.Fatalf("uninstall: %v %q", err, out)
			}
		})
	}
}
