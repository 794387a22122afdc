//go:build linux

package main_test

import (
	"crypto/rand"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tmpfs mounts a tmpfs of size bytes at a fresh folder, unmounted at the
// end of the test. It needs root: skipped outside CI without it.
func tmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		skipOrFail(t, "mounting a tmpfs needs root")
	}
	dir := filepath.Join(t.TempDir(), "fs")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		skipOrFail(t, "cannot mount a tmpfs here: "+err.Error()+": "+string(out))
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

func randomFile(t *testing.T, path string, size int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.CopyN(f, rand.Reader, size); err != nil {
		t.Fatal(err)
	}
}

// fill writes into dir until the filesystem is full and returns the file.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for {
		if _, err := f.Write(buf); err != nil {
			if !strings.Contains(err.Error(), "no space") {
				t.Fatal(err)
			}
			return path
		}
	}
}

// TestFullDisk: on a small filesystem, an add that does not fit is refused
// with one line while the daemon keeps running and the repo stays sound;
// a daemon whose disk was filled by something else still starts, gc gives
// space back, and adds work again.
func TestFullDisk(t *testing.T) {
	start := time.Now()
	step := func(what string) { t.Logf("%v: %s", time.Since(start).Round(time.Millisecond), what) }
	fs := tmpfs(t, "400m")
	repo := filepath.Join(fs, "repo")
	src := t.TempDir()
	d := startDaemon(t, repo)

	first := filepath.Join(src, "first.bin")
	randomFile(t, first, 120<<20)
	step("first add")
	root := strings.Fields(mustKith(t, repo, "add", first))[1]
	big := filepath.Join(src, "big.bin")
	randomFile(t, big, 200<<20)
	step("big file")
	_, errOut, err := runKith(t, repo, "add", big)
	if err == nil || !strings.HasPrefix(strings.TrimSpace(errOut), "kith: disk full: ") || strings.Count(errOut, "\n") > 1 {
		t.Fatalf("an add that does not fit: err %v, stderr %q; want one 'disk full' line", err, errOut)
	}
	step("refused add")
	if v := mustKith(t, repo, "repo", "verify"); !strings.Contains(v, " 0 corrupt") {
		t.Fatalf("repo verify after the refused adds: %s", v)
	}

	// Something else fills the disk; the daemon restarts anyway.
	step("verify")
	if err := d.stop(); err != nil {
		t.Fatal(err)
	}
	step("stop")
	filler := fill(t, fs)
	step("fill")
	d = startDaemon(t, repo)
	step("restart")
	if out := mustKith(t, repo, "repo", "stat"); !strings.Contains(out, "free:    0 B (what adds and fetches may still use on this disk)") {
		t.Errorf("repo stat on a full disk says:\n%s", out)
	}
	step("stat")
	mustKith(t, repo, "pin", "rm", root)
	step("pin rm")
	mustKith(t, repo, "gc")
	step("gc")
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	var st syscall.Statfs_t
	_ = syscall.Statfs(fs, &st)
	t.Logf("free after gc: %d MiB", int64(st.Bavail)*int64(st.Bsize)>>20)
	small := filepath.Join(src, "small.bin")
	randomFile(t, small, 10<<20)
	mustKith(t, repo, "add", small)
	_ = d
}
