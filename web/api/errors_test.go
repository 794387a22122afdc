package api

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
)

func TestSentence(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("repo /r exists: %w", ErrInvalid), "repo /r exists"},
		{fmt.Errorf("get x: %w", fmt.Errorf("no peer: %w", ErrUnavailable)), "get x: no peer"},
		{fmt.Errorf("%w: %w", errors.New("bad token"), ErrInvalid), "bad token"},
		{fmt.Errorf("write /etc/x: %w", ErrPermission), "write /etc/x"},
		{errors.New("the daemon's own words: invalid input here"), "the daemon's own words: invalid input here"},
		{ErrInvalid, "invalid input"}, // nothing else to say
		{fmt.Errorf("you are in no group called %q: %w", "friends", blockstore.ErrNotFound), `you are in no group called "friends"`},
		// The system's reason is the message's only reason: it stays.
		{fmt.Errorf("add /root/x: %w", syscall.EACCES), "add /root/x: permission denied"},
		{fmt.Errorf("add /root/x: %w: %w", syscall.EACCES, ErrPermission), "add /root/x: permission denied"},
		{fmt.Errorf("read it: %w", errors.New("not found")), "read it: not found"},
		{fmt.Errorf("x: %w: %w", ErrInvalid, ErrUnavailable), "x"},
		{blockstore.NotFound(cid.MustParse("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku")), "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku not found"}, // a sentence of its own
	}
	for _, tt := range tests {
		if got := Sentence(tt.err); got != tt.want {
			t.Errorf("Sentence(%q) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestKindOf(t *testing.T) {
	tests := []struct {
		err  error
		want Kind
	}{
		{&Error{Kind: KindPermission, Message: "x"}, KindPermission},
		{fmt.Errorf("write: %w", syscall.ENOSPC), KindDiskFull},
		{fmt.Errorf("cat: %w", blockstore.NotFound(cid.MustParse("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"))), KindNotFound},
		{fmt.Errorf("bad: %w", ErrInvalid), KindInvalid},
		{fmt.Errorf("open: %w", syscall.EACCES), KindPermission},
		{fmt.Errorf("fetch: %w", context.Canceled), KindUnavailable},
		{errors.New("something else"), KindInternal},
		{fmt.Errorf("pause: %w", &Error{Kind: KindConflict, Message: "the transfer has finished"}), KindConflict},
	}
	for _, tt := range tests {
		if got := KindOf(tt.err); got != tt.want {
			t.Errorf("KindOf(%v) = %s, want %s", tt.err, got, tt.want)
		}
	}
}

func TestKindStatus(t *testing.T) {
	tests := []struct {
		kind Kind
		want int
	}{
		{KindNotFound, 404}, {KindInvalid, 400}, {KindPermission, 403}, {KindUnavailable, 503},
		{KindDiskFull, 507}, {KindConflict, 409}, {KindInternal, 500}, {Kind("unheard of"), 500},
	}
	for _, tt := range tests {
		if got := tt.kind.Status(); got != tt.want {
			t.Errorf("%s.Status() = %d, want %d", tt.kind, got, tt.want)
		}
	}
}

func TestPathReason(t *testing.T) {
	_, statErr := os.Lstat(filepath.Join(t.TempDir(), "gone"))
	tests := []struct {
		err      error
		want     string
		wantKind Kind
	}{
		{statErr, "no such file or directory", KindInternal},
		{&fs.PathError{Op: "open", Path: "/etc/x", Err: syscall.EACCES}, "permission denied", KindPermission},
		{fmt.Errorf("write: %w", &fs.PathError{Op: "write", Path: "/x", Err: syscall.ENOSPC}), "no space left on device", KindDiskFull},
		{errors.New("not a path error"), "not a path error", KindInternal},
	}
	for _, tt := range tests {
		got := PathReason(tt.err)
		if got.Error() != tt.want || KindOf(got) != tt.wantKind {
			t.Errorf("PathReason(%q) = %q (kind %s), want %q (kind %s)", tt.err, got, KindOf(got), tt.want, tt.wantKind)
		}
	}
}

func TestOverlap(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"/home/a/docs", "/home/a/docs", true},
		{"/home/a/docs/sub", "/home/a/docs", true},
		{"/home/a", "/home/a/docs", true},
		{"/home/a/docs2", "/home/a/docs", false},
		{"/home/a/doc", "/home/a/docs", false},
		{"/home/b", "/home/a", false},
	}
	for _, tt := range tests {
		if got := Overlap(tt.a, tt.b); got != tt.want {
			t.Errorf("Overlap(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// TestUnreadable: a permission error about a file inside what is added
// says what to do (and IsUnreadableInside finds it); one about the top
// itself, or any other error, stays as it is.
func TestUnreadable(t *testing.T) {
	denied := func(p string) error { return &fs.PathError{Op: "open", Path: p, Err: syscall.EACCES} }
	tests := []struct {
		err  error
		top  string
		want string
	}{
		{fmt.Errorf("add w: %w", denied("/h/w/secret.txt")), "/h/w", "add w: open /h/w/secret.txt: permission denied: make it readable, or leave it out with --exclude secret.txt"},
		{fmt.Errorf("add w: %w", denied("/h/w")), "/h/w/", "add w: open /h/w: permission denied"},
		{fmt.Errorf("add w: %w", &fs.PathError{Op: "write", Path: "/h/x", Err: syscall.ENOSPC}), "/h", "add w: write /h/x: no space left on device"},
		{errors.New("other"), "/h", "other"},
	}
	for _, tt := range tests {
		got := Unreadable(tt.err, tt.top)
		if got.Error() != tt.want || !errors.Is(got, tt.err) {
			t.Errorf("Unreadable(%q, %q) = %q, want %q wrapping it", tt.err, tt.top, got, tt.want)
		}
		if inside := IsUnreadableInside(got.Error()); inside != (got.Error() != tt.err.Error()) {
			t.Errorf("IsUnreadableInside(%q) = %v", got, inside)
		}
	}
	if KindOf(Unreadable(fmt.Errorf("add: %w", denied("/a/b")), "/a")) != KindPermission {
		t.Error("Unreadable's error is not of kind permission")
	}
}
