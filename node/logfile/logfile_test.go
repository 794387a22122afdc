package logfile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// line is the i-th test line: a timestamp-like beginning, as log lines
// have, so each file's head differs.
func line(i int) string { return fmt.Sprintf("time=%06d msg=\"line %d\"", i, i) }

func writeLines(t *testing.T, w *Writer, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if _, err := w.Write([]byte(line(i) + "\n")); err != nil {
			t.Fatal(err)
		}
	}
}

func lines(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, line(i))
	}
	return out
}

// TestRotation: the file never grows past its cap by more than a line,
// keeps one predecessor, and a line is never split between the two.
func TestRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "logs", "daemon.log")
	w, err := Open(path, 1000)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	n := len(line(0)) + 1
	writeLines(t, w, 0, 100) // 100 lines of ~27 bytes: several rotations
	for _, p := range []string{path, Rotated(path)} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 1000 || (p == Rotated(path) && len(b) < 1000-n) {
			t.Errorf("%s holds %d bytes, want up to 1000 (and, rotated, more than %d)", p, len(b), 1000-n)
		}
		if !strings.HasPrefix(string(b), "time=") || !strings.HasSuffix(string(b), "\"\n") {
			t.Errorf("%s begins or ends inside a line: %q", p, b)
		}
	}
	if _, err := os.Stat(path + ".2"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("more than one predecessor kept")
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("log mode %v, want 0600", fi.Mode().Perm())
	}
	// Reopening appends, and rotates from the size already there.
	w.Close()
	if _, err := w.Write([]byte("x\n")); !errors.Is(err, os.ErrClosed) {
		t.Errorf("write after close: %v", err)
	}
	w2, err := Open(path, 1000)
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	writeLines(t, w2, 100, 101)
	got, err := Tail(path, 1)
	if err != nil || !reflect.DeepEqual(got, lines(100, 101)) {
		t.Fatalf("tail after reopen = %q, %v", got, err)
	}
}

// TestTail: the last n lines, reaching into the predecessor, of files
// larger than one read.
func TestTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "daemon.log")
	if _, err := Tail(path, 5); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "`kith daemon` writes it") {
		t.Fatalf("no log: %v", err)
	}
	w, err := Open(path, 400_000) // 400 kB: lines are read back in several 64 KiB chunks
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	writeLines(t, w, 0, 20_000)
	cur, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	inCur := strings.Count(string(cur), "\n")
	old, err := os.ReadFile(Rotated(path))
	if err != nil {
		t.Fatal(err)
	}
	inOld := strings.Count(string(old), "\n")
	tests := []struct{ n, from int }{
		{0, 20_000},
		{1, 19_999},
		{50, 19_950},
		{5000, 15_000},                    // more than one chunk
		{inCur, 20_000 - inCur},           // exactly the current file
		{inCur + 3, 19_997 - inCur},       // three from the predecessor
		{100_000, 20_000 - inCur - inOld}, // both files, whole
	}
	for _, tt := range tests {
		got, err := Tail(path, tt.n)
		if err != nil {
			t.Fatal(err)
		}
		if want := lines(tt.from, 20_000); !reflect.DeepEqual(got, want) {
			t.Errorf("Tail(%d): %d lines from %q, want %d from %q", tt.n, len(got), first(got), len(want), first(want))
		}
	}
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// TestFollow: new lines arrive in order, none lost or doubled, across
// rotations, and following starts before the file exists.
func TestFollow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "daemon.log")
	var mu sync.Mutex
	var got []string
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Follow(ctx, path, 10, time.Millisecond, func(l string) error {
			mu.Lock()
			got = append(got, l)
			mu.Unlock()
			return nil
		})
	}()
	w, err := Open(path, 2000)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	// Lines come in bursts smaller than a file, so every rotated file is
	// still PATH.1 when the follower looks; each burst waits until read.
	total := 0
	for burst := range 40 {
		writeLines(t, w, total, total+10+burst%7)
		total += 10 + burst%7
		waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) >= total })
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, lines(0, total)) {
		t.Fatalf("followed %d lines, want %d in order (first %q)", len(got), total, first(got))
	}
	if _, err := os.Stat(Rotated(path)); err != nil {
		t.Fatal("the test never rotated the log")
	}

	// A follower that starts on an existing log prints its tail first.
	got = nil
	ctx, cancel = context.WithCancel(context.Background())
	go func() {
		done <- Follow(ctx, path, 3, time.Millisecond, func(l string) error {
			mu.Lock()
			got = append(got, l)
			mu.Unlock()
			return nil
		})
	}()
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) >= 3 })
	writeLines(t, w, total, total+2)
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) >= 5 })
	cancel()
	<-done
	if !reflect.DeepEqual(got, lines(total-3, total+2)) {
		t.Fatalf("tail then follow gave %q", got)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(time.Millisecond)
	}
}
