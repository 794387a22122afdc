package fstest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// ExFAT mounts a new exFAT file system (with FUSE, on a loop device)
// and returns an empty folder in it: a file system that does not tell
// names apart by case, as macOS's, Windows' and a memory stick's do. It
// needs root and exfat-fuse (.ci/run installs it); elsewhere the test is
// skipped (in CI it fails).
func ExFAT(t testing.TB) string {
	t.Helper()
	skip := func(why string) {
		t.Helper()
		if os.Getenv("CI") == "true" {
			t.Fatal(why)
		}
		t.Skip(why)
	}
	if os.Geteuid() != 0 {
		skip("mounting an exFAT file system needs root")
	}
	for _, tool := range []string{"mkfs.exfat", "mount.exfat-fuse", "losetup", "umount"} {
		if _, err := exec.LookPath(tool); err != nil {
			skip(tool + " is not installed (apt-get install exfat-fuse exfatprogs)")
		}
	}
	run := func(name string, args ...string) string {
		t.Helper()
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			skip(name + " " + strings.Join(args, " ") + ": " + err.Error() + ": " + string(out))
		}
		return strings.TrimSpace(string(out))
	}
	img := filepath.Join(t.TempDir(), "exfat.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 32<<20); err != nil {
		t.Fatal(err)
	}
	run("mkfs.exfat", img)
	dev := run("losetup", "--find", "--show", img)
	t.Cleanup(func() { exec.Command("losetup", "--detach", dev).Run() })
	mnt := t.TempDir()
	run("mount.exfat-fuse", dev, mnt)
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	dir := filepath.Join(mnt, "docs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
