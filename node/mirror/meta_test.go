package mirror

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
)

// sharedFolder writes tr into a new folder, gives the paths of modes their
// mode and a time of their own (an hour apart, in the past), and imports
// it: the sharer's folder and its version.
func sharedFolder(t *testing.T, bs blockstore.Blockstore, tr tree, modes map[string]fs.FileMode) (string, cid.Cid) {
	t.Helper()
	dir := mustMkdir(t, filepath.Join(t.TempDir(), "shared"))
	tr.write(t, dir)
	at := time.Date(2024, 3, 1, 12, 0, 0, 123456789, time.UTC)
	// Files first: setting a folder's time before writing in it is undone.
	for _, files := range []bool{true, false} {
		for rel, mode := range modes {
			p := filepath.Join(dir, filepath.FromSlash(rel))
			if st, err := os.Stat(p); err != nil || st.IsDir() == files {
				continue
			}
			if err := os.Chmod(p, mode); err != nil {
				t.Fatal(err)
			}
			at = at.Add(time.Hour)
			if err := os.Chtimes(p, at, at); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir, importDir(t, bs, dir)
}

// metaOf reads the sharer's folder's meta and stores it as a file, as
// the sharing node does.
func metaOf(t *testing.T, bs blockstore.Blockstore, root cid.Cid, dir string) (Meta, cid.Cid) {
	t.Helper()
	m, err := ReadMeta(context.Background(), bs, root, dir)
	if err != nil {
		t.Fatal(err)
	}
	res, err := dag.NewImporter(bs).Add(context.Background(), files.NewBytesFile(EncodeMeta(m, Versions{})), nil)
	if err != nil {
		t.Fatal(err)
	}
	return m, res.Root
}

// sameMeta fails t unless each path of want has, in dir, want's mode
// (with the owner's bits a mirror keeps) and time.
func sameMeta(t *testing.T, dir string, want Meta, skip ...string) {
	t.Helper()
	for rel, em := range want {
		if strings.HasPrefix(rel, "link") || slices.Contains(skip, rel) {
			continue
		}
		st, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		keep := fs.FileMode(0o400)
		if st.IsDir() {
			keep = 0o700
		}
		if got, w := st.Mode().Perm(), fs.FileMode(em.Mode)|keep; got != w {
			t.Errorf("%s: mode %v, want %v", rel, got, w)
		}
		if got := st.ModTime().UnixNano(); got != em.Mtime {
			t.Errorf("%s: time %v, want %v", rel, st.ModTime(), time.Unix(0, em.Mtime))
		}
	}
}

// TestMirrorKeepsModesAndTimes: a followed folder's files and folders get
// the sharer's modes (a script stays executable) and times, also those
// written by an update after; a version that only touched a file (same
// CID, a new meta) moves its time; what was changed here is left alone;
// a meta that cannot be read leaves the files written and says so.
func TestMirrorKeepsModesAndTimes(t *testing.T) {
	bs := blockstore.NewMemStore()
	tr := tree{"run.sh": "#!/bin/sh\necho hi\n", "notes.txt": "private", "b.txt": "bee",
		"bin": tree{"tool": "elf"}, "link": link("b.txt")}
	modes := map[string]fs.FileMode{"run.sh": 0o755, "notes.txt": 0o600, "b.txt": 0o644, "bin/tool": 0o750, "bin": 0o750}
	shared, v1 := sharedFolder(t, bs, tr, modes)
	meta1, m1 := metaOf(t, bs, v1, shared)
	if len(meta1) != 5 {
		t.Fatalf("meta of %d entries, want the 5 files and folders (no link): %v", len(meta1), meta1)
	}
	if got, again := EncodeMeta(meta1, Versions{}), EncodeMeta(meta1, Versions{}); !bytes.Equal(got, again) {
		t.Fatal("the same meta encodes differently")
	}

	src := &shares{bs: bs}
	src.share("g1", "Docs", v1)
	src.shareMeta("g1", "Docs", m1)
	m := running(t, src, t.TempDir(), time.Hour, nil)
	folder, _ := followGot(t, m, bs, v1) // written by a get: this device's times, 0644
	m.Kick()
	mr := waitMirror(t, m, folder, "the meta applied", func(mr Mirror) bool { return mr.Meta == m1.String() })
	if mr.Error != "" || mr.Cid != v1.String() {
		t.Fatalf("after the meta: %+v", mr)
	}
	sameMeta(t, folder, meta1)

	// Changed here, then the sharer touches every file (same bytes, same
	// CID) and changes one: the new times come, the edit here stays.
	writeFile(t, filepath.Join(folder, "b.txt"), "mine")
	tr["notes.txt"] = "private, longer"
	modes["run.sh"] = 0o700
	shared2, v2 := sharedFolder(t, bs, tr, modes)
	meta2, m2 := metaOf(t, bs, v2, shared2)
	src.share("g1", "Docs", v2)
	src.shareMeta("g1", "Docs", m2)
	m.Kick()
	mr = waitMirror(t, m, folder, "v2 and its meta", func(mr Mirror) bool { return mr.Meta == m2.String() })
	if mr.Cid != v2.String() || mr.KeptCount != 1 {
		t.Fatalf("after v2: %+v", mr)
	}
	sameMeta(t, folder, meta2, "b.txt")
	if b, _ := os.ReadFile(filepath.Join(folder, "b.txt")); string(b) != "mine" {
		t.Fatalf("b.txt, changed here, = %q", b)
	}

	// The same version, only touched: its time moves, nothing is written.
	meta3 := Meta{}
	for k, v := range meta2 {
		meta3[k] = v
	}
	em := meta3["run.sh"]
	em.Mtime += int64(time.Minute)
	meta3["run.sh"] = em
	res, err := dag.NewImporter(bs).Add(context.Background(), files.NewBytesFile(EncodeMeta(meta3, Versions{})), nil)
	if err != nil {
		t.Fatal(err)
	}
	src.shareMeta("g1", "Docs", res.Root)
	m.Kick()
	waitMirror(t, m, folder, "the touched meta", func(mr Mirror) bool { return mr.Meta == res.Root.String() })
	sameMeta(t, folder, meta3, "b.txt")

	// Its mode changed here (chmod, nothing else), then the sharer
	// touches it: what was changed here stays, as an edit here does; so
	// does a folder's mode changed here that the sharer changed too.
	notes, bin := filepath.Join(folder, "notes.txt"), filepath.Join(folder, "bin")
	if err := os.Chmod(notes, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(bin, 0o700); err != nil {
		t.Fatal(err)
	}
	here, err := os.Stat(notes)
	if err != nil {
		t.Fatal(err)
	}
	meta4 := maps.Clone(meta3)
	em = meta4["notes.txt"]
	em.Mtime += int64(time.Minute)
	meta4["notes.txt"] = em
	em = meta4["bin"]
	em.Mode = 0o755
	meta4["bin"] = em
	res, err = dag.NewImporter(bs).Add(context.Background(), files.NewBytesFile(EncodeMeta(meta4, Versions{})), nil)
	if err != nil {
		t.Fatal(err)
	}
	src.shareMeta("g1", "Docs", res.Root)
	m.Kick()
	waitMirror(t, m, folder, "the meta touching notes.txt", func(mr Mirror) bool { return mr.Meta == res.Root.String() })
	if st, err := os.Stat(notes); err != nil || st.Mode() != here.Mode() || !st.ModTime().Equal(here.ModTime()) {
		t.Fatalf("notes.txt, its mode changed here: %v %v, want %v %v as it was (%v)", st.Mode(), st.ModTime(), here.Mode(), here.ModTime(), err)
	}
	if st, err := os.Stat(bin); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("bin, its mode changed here: %v (%v), want 0700 as it was", st.Mode(), err)
	}
	sameMeta(t, folder, meta4, "b.txt", "notes.txt", "bin")

	// A folder replaced here by a link to a folder outside: nothing out
	// there gets the version's modes or times.
	outside := mustMkdir(t, filepath.Join(t.TempDir(), "outside"))
	writeFile(t, filepath.Join(outside, "tool"), "elf")
	if err := os.Chmod(filepath.Join(outside, "tool"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(folder, "bin"), filepath.Join(t.TempDir(), "bin-away")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(folder, "bin")); err != nil {
		t.Fatal(err)
	}
	before, err := os.Stat(filepath.Join(outside, "tool"))
	if err != nil {
		t.Fatal(err)
	}
	mr = waitMirror(t, m, folder, "still at v2", func(mr Mirror) bool { return mr.Cid == v2.String() })
	man, err := m.loadManifestLocked(mr)
	if err != nil {
		t.Fatal(err)
	}
	man["bin/tool"] = Record{Type: dag.TypeFile, Size: before.Size(), Mtime: before.ModTime().UnixNano()}
	if _, err := applyMeta(folder, man, meta3); err != nil {
		t.Fatal(err)
	}
	if after, err := os.Stat(filepath.Join(outside, "tool")); err != nil || after.Mode() != before.Mode() || !after.ModTime().Equal(before.ModTime()) {
		t.Fatalf("a file outside, through a link: %v %v, was %v %v (%v)", after.Mode(), after.ModTime(), before.Mode(), before.ModTime(), err)
	}

	// A meta that is no meta: the files stay the version's, the error
	// says what is missing, and the next good meta is applied.
	bad, err := dag.NewImporter(bs).Add(context.Background(), files.NewBytesFile([]byte("not json")), nil)
	if err != nil {
		t.Fatal(err)
	}
	src.shareMeta("g1", "Docs", bad.Root)
	m.Kick()
	mr = waitMirror(t, m, folder, "the bad meta refused", func(mr Mirror) bool { return mr.Error != "" })
	if !strings.Contains(mr.Error, "modes and times") || mr.Cid != v2.String() || mr.Meta != "" {
		t.Fatalf("bad meta: %+v", mr)
	}
}

// TestDecodeMeta refuses what is not a meta file, or names a path outside
// the folder, or an ancestor that is no CID; EncodeMeta's ancestors read back.
func TestDecodeMeta(t *testing.T) {
	for _, tt := range []struct {
		name, in string
		ok       bool
	}{
		{"good", `{"v":1,"e":{"a/b":{"m":493,"t":5}}}`, true},
		{"empty", `{"v":1,"e":{}}`, true},
		{"not json", `modes`, false},
		{"other version", `{"v":2,"e":{}}`, false},
		{"outside", `{"v":1,"e":{"../x":{"m":493,"t":5}}}`, false},
		{"absolute", `{"v":1,"e":{"/etc/passwd":{"m":493,"t":5}}}`, false},
		{"a file's own", `{"v":1,"e":{".":{"m":493,"t":5}}}`, true},
		{"with ancestors", `{"v":1,"e":{},"b":["bafkqaaa"]}`, true},
		{"an ancestor that is no CID", `{"v":1,"e":{},"b":["not a cid"]}`, false},
		{"versions kept", `{"v":1,"e":{},"b":["bafkqaaa"],"k":5}`, true},
		{"versions kept, too many", `{"v":1,"e":{},"k":101}`, false},
		{"versions kept, fewer than none", `{"v":1,"e":{},"k":-1}`, false},
	} {
		_, _, err := DecodeMeta(strings.NewReader(tt.in))
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrBadMeta)) {
			t.Errorf("%s: DecodeMeta = %v, ok want %v", tt.name, err, tt.ok)
		}
	}
	m := Meta{"a": {Mode: 0o644, Mtime: 7}}
	got, vers, err := DecodeMeta(bytes.NewReader(EncodeMeta(m, Versions{Ancestors: []string{"bafkqaaa"}, Keep: 3})))
	if err != nil || len(vers.Ancestors) != 1 || vers.Ancestors[0] != "bafkqaaa" || vers.Keep != 3 || got["a"] != m["a"] {
		t.Errorf("read back: %v, versions %+v, %v", got, vers, err)
	}
	// A folder that does not sync: the file is as before versions were
	// kept (the same bytes, the same CID).
	if b := EncodeMeta(m, Versions{}); bytes.Contains(b, []byte(`"b"`)) || bytes.Contains(b, []byte(`"k"`)) {
		t.Errorf("no versions, yet the file names some: %s", b)
	}
}

// TestMetaSub: the meta of a path inside the version is that path's
// entries, by their path inside it, and the path's own at ".".
func TestMetaSub(t *testing.T) {
	e := func(n int64) EntryMeta { return EntryMeta{Mode: 0o644, Mtime: n} }
	m := Meta{"bin": e(1), "bin/run.sh": e(2), "bin/lib/x": e(3), "binary": e(4), "binary/y": e(5), "notes.txt": e(6)}
	for _, tt := range []struct {
		p    string
		want Meta
	}{
		{".", m},
		{"", m},
		{"bin", Meta{".": e(1), "run.sh": e(2), "lib/x": e(3)}},
		{"bin/lib", Meta{"x": e(3)}},
		{"bin/run.sh", Meta{".": e(2)}},
		{"notes.txt", Meta{".": e(6)}},
		{"bi", Meta{}},
		{"missing", Meta{}},
	} {
		if got := m.Sub(tt.p); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Sub(%q) = %v, want %v", tt.p, got, tt.want)
		}
	}
}

// TestMetaWithout: what a get left out is taken from the meta with all
// it holds, and nothing whose path only starts the same.
func TestMetaWithout(t *testing.T) {
	e := func(n int64) EntryMeta { return EntryMeta{Mode: 0o644, Mtime: n} }
	m := Meta{".": e(0), "bin": e(1), "bin/run.sh": e(2), "bin/lib/x": e(3), "binary": e(4), "readme.md": e(5), "README.md": e(6)}
	for _, tt := range []struct {
		ps   []string
		want Meta
	}{
		{nil, m},
		{[]string{"readme.md"}, Meta{".": e(0), "bin": e(1), "bin/run.sh": e(2), "bin/lib/x": e(3), "binary": e(4), "README.md": e(6)}},
		{[]string{"bin"}, Meta{".": e(0), "binary": e(4), "readme.md": e(5), "README.md": e(6)}},
		{[]string{"bin/lib", "readme.md", "missing"}, Meta{".": e(0), "bin": e(1), "bin/run.sh": e(2), "binary": e(4), "README.md": e(6)}},
	} {
		if got := m.Without(tt.ps); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Without(%q) = %v, want %v", tt.ps, got, tt.want)
		}
	}
}
