package dag

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestFingerprint: every change an add would see changes the fingerprint
// (a write, a new, removed or renamed entry, a link's target, a mode);
// a change to an excluded entry, or none, leaves it as it was.
func TestFingerprint(t *testing.T) {
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	build := func(t *testing.T) string {
		t.Helper()
		root := filepath.Join(t.TempDir(), "photos")
		for _, d := range []string{"", "2025", ".git"} {
			if err := os.Mkdir(filepath.Join(root, d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for name, body := range map[string]string{"a.jpg": "aaaa", "2025/b.jpg": "bbbb", ".git/HEAD": "ref", "tmp.tmp": "x"} {
			p := filepath.Join(root, name)
			if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(p, base, base); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Symlink("a.jpg", filepath.Join(root, "latest")); err != nil {
			t.Fatal(err)
		}
		return root
	}
	x, err := NewExclusion([]string{".git", "*.tmp", "/2025/*.raw"})
	if err != nil {
		t.Fatal(err)
	}
	later := base.Add(time.Second)
	write := func(name, body string, at time.Time) func(t *testing.T, root string) {
		return func(t *testing.T, root string) {
			p := filepath.Join(root, name)
			if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(p, at, at); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name    string
		change  func(t *testing.T, root string)
		changed bool
	}{
		{"nothing", func(*testing.T, string) {}, false},
		{"same bytes, same time", write("a.jpg", "aaaa", base), false},
		{"same size, later time", write("a.jpg", "AAAA", later), true},
		{"other size, same time", write("a.jpg", "aaaaa", base), true},
		{"deeper file written", write("2025/b.jpg", "bbbbb", later), true},
		{"new file", write("c.jpg", "c", base), true},
		{"new empty folder", func(t *testing.T, root string) {
			if err := os.Mkdir(filepath.Join(root, "empty"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"removed file", func(t *testing.T, root string) {
			if err := os.Remove(filepath.Join(root, "2025", "b.jpg")); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"renamed file", func(t *testing.T, root string) {
			if err := os.Rename(filepath.Join(root, "a.jpg"), filepath.Join(root, "z.jpg")); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"link pointed elsewhere", func(t *testing.T, root string) {
			p := filepath.Join(root, "latest")
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("2025/b.jpg", p); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"made executable", func(t *testing.T, root string) {
			if err := os.Chmod(filepath.Join(root, "a.jpg"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"excluded folder written", write(".git/HEAD", "other ref", later), false},
		{"excluded file added", write("new.tmp", "y", later), false},
		{"excluded path added", write("2025/x.raw", "y", later), false},
		{"the same name elsewhere added", write("x.raw", "y", later), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := build(t)
			before, newest, err := Fingerprint(root, x)
			if err != nil {
				t.Fatal(err)
			}
			tt.change(t, root)
			after, _, err := Fingerprint(root, x)
			if err != nil {
				t.Fatal(err)
			}
			if (before != after) != tt.changed {
				t.Fatalf("fingerprint changed: %v, want %v", before != after, tt.changed)
			}
			if newest.Before(base) {
				t.Fatalf("newest %s is before the files' time %s", newest, base)
			}
		})
	}

	t.Run("newest", func(t *testing.T) {
		root := build(t)
		// (The link's own time is now: os cannot set it.)
		if err := os.Remove(filepath.Join(root, "latest")); err != nil {
			t.Fatal(err)
		}
		write("2025/new.jpg", "n", later.Add(time.Hour))(t, root)
		for _, d := range []string{root, filepath.Join(root, "2025")} {
			if err := os.Chtimes(d, base, base); err != nil {
				t.Fatal(err)
			}
		}
		if _, newest, err := Fingerprint(root, x); err != nil || !newest.Equal(later.Add(time.Hour)) {
			t.Fatalf("newest = %s, %v; want the new file's time %s", newest, err, later.Add(time.Hour))
		}
	})
	t.Run("a file", func(t *testing.T) {
		root := build(t)
		p := filepath.Join(root, "a.jpg")
		before, _, err := Fingerprint(p, Exclusion{})
		if err != nil {
			t.Fatal(err)
		}
		write("a.jpg", "abcd", later)(t, root)
		if after, _, err := Fingerprint(p, Exclusion{}); err != nil || after == before {
			t.Fatalf("a file written: fingerprint %s -> %s, %v", before, after, err)
		}
	})
	t.Run("gone", func(t *testing.T) {
		if _, _, err := Fingerprint(filepath.Join(t.TempDir(), "nothing"), Exclusion{}); !os.IsNotExist(err) {
			t.Fatalf("a missing folder: %v, want not exist", err)
		}
	})
}
