package web

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestTarRenamer: the top-level folder of a tar answer takes the
// download's name, at any depth and for names too long for a plain tar
// header; bytes, links and modes stay; an answer that is not the tar (an
// error) passes through untouched.
func TestTarRenamer(t *testing.T) {
	const cidName = "bafybeih2ihz266f7ghrydzmckbeixqwwtmdq743g47msil36vdpx427sqq"
	long := strings.Repeat("a very long folder name ", 8) // > 100 bytes: PAX
	entries := []struct {
		hdr  tar.Header
		body string
	}{
		{tar.Header{Typeflag: tar.TypeDir, Name: cidName, Mode: 0o755}, ""},
		{tar.Header{Typeflag: tar.TypeReg, Name: cidName + "/notes.txt", Mode: 0o644, Size: 5}, "notes"},
		{tar.Header{Typeflag: tar.TypeDir, Name: cidName + "/" + long, Mode: 0o755}, ""},
		{tar.Header{Typeflag: tar.TypeReg, Name: cidName + "/" + long + "/deep.bin", Mode: 0o600, Size: 3}, "abc"},
		{tar.Header{Typeflag: tar.TypeSymlink, Name: cidName + "/link", Linkname: cidName + "/notes.txt", Mode: 0o777}, ""},
	}
	var src bytes.Buffer
	tw := tar.NewWriter(&src)
	for _, e := range entries {
		if err := tw.WriteHeader(&e.hdr); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, e.body)
	}
	tw.Close()

	rec := httptest.NewRecorder()
	r := newTarRenamer(rec, cidName, "Holiday 2026")
	r.Header().Set("Content-Type", "application/x-tar")
	// Written in small pieces, as a stream is.
	for b := src.Bytes(); len(b) > 0; b = b[min(len(b), 700):] {
		if _, err := r.Write(b[:min(len(b), 700)]); err != nil {
			t.Fatal(err)
		}
	}
	r.finish()

	tr := tar.NewReader(rec.Body)
	for i, e := range entries {
		hdr, err := tr.Next()
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		want := "Holiday 2026" + strings.TrimPrefix(e.hdr.Name, cidName)
		if hdr.Name != want && hdr.Name != want+"/" {
			t.Errorf("entry %d named %q, want %q", i, hdr.Name, want)
		}
		if hdr.Linkname != e.hdr.Linkname || hdr.Mode != e.hdr.Mode || hdr.Typeflag != e.hdr.Typeflag {
			t.Errorf("entry %d: %+v, want the link, mode and type of %+v", i, hdr, e.hdr)
		}
		if b, _ := io.ReadAll(tr); string(b) != e.body {
			t.Errorf("entry %d holds %q, want %q", i, b, e.body)
		}
	}
	if _, err := tr.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the entries: %v, want the archive's end", err)
	}

	// An error answer: as it is.
	rec = httptest.NewRecorder()
	r = newTarRenamer(rec, cidName, "Holiday 2026")
	r.Header().Set("Content-Type", "text/plain; charset=utf-8")
	r.WriteHeader(http.StatusNotFound)
	io.WriteString(r, "no link named \"x\"\n")
	r.finish()
	if rec.Code != http.StatusNotFound || rec.Body.String() != "no link named \"x\"\n" {
		t.Fatalf("an error answer became %d %q", rec.Code, rec.Body.String())
	}

	// A tar cut short (boxo appends its error): cut short here too, with
	// the reason at the end.
	rec = httptest.NewRecorder()
	r = newTarRenamer(rec, cidName, "Holiday 2026")
	r.Header().Set("Content-Type", "application/x-tar")
	cut := src.Bytes()[:1024]
	r.Write(cut)
	r.Write([]byte("the block could not be fetched"))
	r.finish()
	if !strings.HasSuffix(rec.Body.String(), "the archive ended early") {
		t.Fatalf("a broken archive does not end with its reason: %q", rec.Body.String()[max(0, rec.Body.Len()-200):])
	}

	// boxo says it failed (and then still ends its archive): no trailer
	// here, the reason instead.
	rec = httptest.NewRecorder()
	r = newTarRenamer(rec, cidName, "Holiday 2026")
	r.Header().Set("Content-Type", "application/x-tar")
	r.Write(src.Bytes()[:src.Len()-1024])
	r.Header().Set("X-Stream-Error", "the block could not be fetched")
	r.Write([]byte("the block could not be fetched"))
	r.Write(make([]byte, 1024))
	r.finish()
	if !strings.HasSuffix(rec.Body.String(), "the block could not be fetched") {
		t.Fatalf("a failed archive does not end with its reason: %q", rec.Body.String()[max(0, rec.Body.Len()-200):])
	}
}

func TestTarFolderName(t *testing.T) {
	for _, tt := range []struct{ file, want string }{
		{"holiday.tar", "holiday"},
		{"Holiday 2026.tar", "Holiday 2026"},
		{"site", "site"},
		{".tar", ""},
		{"...tar", ""},
		{"a/b.tar", ""},
		{`a\b.tar`, ""},
	} {
		if got := tarFolderName(tt.file); got != tt.want {
			t.Errorf("tarFolderName(%q) = %q, want %q", tt.file, got, tt.want)
		}
	}
}
