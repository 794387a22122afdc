package dag

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/fstest"
)

// TestWriteToCaseClash: a folder holding two names that differ only in
// case (shared from a file system that tells them apart), written where
// they are one name (exFAT, as macOS's and Windows' file systems): the
// write fails, naming both and how to get the rest, never one written
// over the other; with the second left out, it is written.
func TestWriteToCaseClash(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	fstest.WriteFiles(t, src, map[string]string{"readme.md": "lower", "README.md": "UPPER", "sub/a.txt": "a", "SUB/b.txt": "b"})
	bs := blockstore.NewMemStore()
	res := addReusing(t, bs, src, nil)
	stick := fstest.ExFAT(t)
	err := WriteTo(ctx, bs, res.Root, filepath.Join(stick, "got"), nil)
	// In name order: README.md, SUB, readme.md, sub.
	want := "readme.md: names differ only in case: README.md is there already, and this file system does not tell them apart (get the rest with --exclude /readme.md)"
	if !errors.Is(err, ErrCaseClash) || !strings.Contains(err.Error(), want) {
		t.Fatalf("write: %v, want the clash: %s", err, want)
	}
	if _, err := os.Stat(filepath.Join(stick, "got")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed write left its folder: %v", err)
	}
	x, err := NewExclusion([]string{"/readme.md", "/sub"})
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteTo(ctx, bs, res.Root, filepath.Join(stick, "got"), nil, WithExclusion(x)); err != nil {
		t.Fatalf("write without the second names: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(stick, "got", "readme.md")); string(b) != "UPPER" {
		t.Errorf("README.md holds %q", b)
	}
}

// TestWriteToLinkWhereNoneCanBe: a folder with a symbolic link, written on
// a file system that holds none (exFAT): the write fails, naming the link
// and the --exclude that gets the rest.
func TestWriteToLinkWhereNoneCanBe(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "a.txt"), []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(src, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../a.txt", filepath.Join(src, "bin", "run")); err != nil {
		t.Fatal(err)
	}
	bs := blockstore.NewMemStore()
	res := addReusing(t, bs, src, nil)
	stick := fstest.ExFAT(t)
	err := WriteTo(ctx, bs, res.Root, filepath.Join(stick, "got"), nil)
	if err == nil || !strings.Contains(err.Error(), "bin/run: the symbolic link could not be made: ") || !strings.HasSuffix(err.Error(), "(get the rest with --exclude /bin/run)") {
		t.Fatalf("write of a link on exFAT: %v", err)
	}
}

// TestWriteToLeavingOutWhatCannotBeHeld: with WithUnwritable, what exFAT
// cannot hold (the second of names that differ only in case, a file or a
// folder with all it holds, a name with a colon or a question mark, and
// a symbolic link) is left out and named
// with why, in the folder's order, and the rest is written and placed;
// a third name of the same case orbit is said to clash with the one
// written, not with one left out.
func TestWriteToLeavingOutWhatCannotBeHeld(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	fstest.WriteFiles(t, src, map[string]string{
		"readme.md": "lower", "README.md": "UPPER", "ReadMe.md": "mixed",
		"sub/a.txt": "a", "SUB/b.txt": "b", "keep/c.txt": "c",
		"keep/notes: draft.txt": "a colon", "why?/d.txt": "d",
	})
	if err := os.Symlink("../readme.md", filepath.Join(src, "keep", "link")); err != nil {
		t.Fatal(err)
	}
	bs := blockstore.NewMemStore()
	res := addReusing(t, bs, src, nil)
	stick := fstest.ExFAT(t)
	var left []string
	err := WriteTo(ctx, bs, res.Root, filepath.Join(stick, "got"), nil, WithUnwritable(func(rel string, why error) {
		left = append(left, rel+": "+why.Error())
	}))
	if err != nil {
		t.Fatalf("write: %v", err)
	}
	// In name order: README.md, ReadMe.md, SUB, keep, readme.md, sub, why?.
	want := []string{
		"ReadMe.md: names differ only in case: README.md is there already, and this file system does not tell them apart",
		"keep/link: the symbolic link could not be made: function not implemented",
		`keep/notes: draft.txt: this file system does not take the name (FAT, exFAT and Windows take none with " * : < > ? \ |)`,
		"readme.md: names differ only in case: README.md is there already, and this file system does not tell them apart",
		"sub: names differ only in case: SUB is there already, and this file system does not tell them apart",
		`why?: this file system does not take the name (FAT, exFAT and Windows take none with " * : < > ? \ |)`,
	}
	if strings.Join(left, "\n") != strings.Join(want, "\n") {
		t.Errorf("left out:\n%s\nwant:\n%s", strings.Join(left, "\n"), strings.Join(want, "\n"))
	}
	for name, body := range map[string]string{"README.md": "UPPER", "SUB/b.txt": "b", "keep/c.txt": "c"} {
		if b, err := os.ReadFile(filepath.Join(stick, "got", filepath.FromSlash(name))); err != nil || string(b) != body {
			t.Errorf("%s holds %q (%v), want %q", name, b, err, body)
		}
	}
	if _, err := os.Lstat(filepath.Join(stick, "got", "SUB", "a.txt")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("sub/a.txt was written into SUB: %v", err)
	}
}

// TestWriteToLeavingOutWhatIsTooBig: a file larger than the file system
// holds (as a FAT32 stick's 4 GiB; here a limit on the size of the files
// this process writes, RLIMIT_FSIZE, of 64 KiB) is left out with why, what
// was written of it removed and not counted, and the rest written; a
// file got alone fails saying so.
func TestWriteToLeavingOutWhatIsTooBig(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	fstest.WriteFiles(t, src, map[string]string{"notes.txt": "small", "video.mp4": strings.Repeat("frame ", 20<<10)})
	bs := blockstore.NewMemStore()
	res := addReusing(t, bs, src, nil)
	video, err := Resolve(ctx, bs, res.Root, []string{"video.mp4"})
	if err != nil {
		t.Fatal(err)
	}
	var was syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &was); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: 64 << 10, Max: was.Max}); err != nil {
		t.Skipf("no file size limit here: %v", err)
	}
	defer syscall.Setrlimit(syscall.RLIMIT_FSIZE, &was)

	out := filepath.Join(t.TempDir(), "got")
	var left []string
	var written int64
	err = WriteTo(ctx, bs, res.Root, out, func(n int64) { written = n }, WithUnwritable(func(rel string, why error) {
		left = append(left, rel+": "+why.Error())
	}))
	if err != nil {
		t.Fatalf("write: %v", err)
	}
	want := "video.mp4: the file is larger than this file system holds (FAT32 holds files up to 4 GiB; exFAT, NTFS, APFS and ext4 hold larger ones)"
	if strings.Join(left, "\n") != want {
		t.Errorf("left out %q, want %q", left, want)
	}
	if b, err := os.ReadFile(filepath.Join(out, "notes.txt")); err != nil || string(b) != "small" {
		t.Errorf("notes.txt holds %q (%v)", b, err)
	}
	if _, err := os.Lstat(filepath.Join(out, "video.mp4")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("what was written of video.mp4 stays: %v", err)
	}
	if written != int64(len("small")) {
		t.Errorf("%d bytes counted as written, want the 5 of notes.txt", written)
	}
	err = WriteTo(ctx, bs, video, filepath.Join(t.TempDir(), "video.mp4"), nil)
	if !errors.Is(err, ErrTooBig) || !strings.Contains(err.Error(), "video.mp4: the file is larger than this file system holds") {
		t.Errorf("a file too big got alone: %v", err)
	}
}
