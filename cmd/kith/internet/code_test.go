//go:build linux

package internet_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestTwoHomesByCode: A, behind a cone NAT, runs `kith send` with no
// daemon running (it starts its own, as croc's user expects); B, behind
// another, types the short code it printed, at once. B knows nothing else
// of A: it finds A through the lab's DHT (the code's rendezvous key),
// proves it knows the code, is given the ticket, and gets the file over a
// direct, hole-punched connection; A's send says B has it all and, with
// --once, ends, and the daemon it started with it.
func TestTwoHomesByCode(t *testing.T) {
	_, a, b := twoConeHomes(t, false)
	send, data := a.send(4<<20, "--once")
	code := printed(t, send, sentCode, "A's send to print its code")
	for _, p := range b.peers() {
		if p.ID == a.id.PeerID {
			t.Fatalf("B is connected to A before the get: the code is to find it (%+v)", p)
		}
	}
	out := filepath.Join(b.files, "got.bin")
	// At once, as a friend reads it out: the get looks again until the
	// code's announcement reaches the DHT.
	if _, err := b.run("get", code, "-o", out); err != nil {
		t.Fatal(err)
	}
	b.gotDirectlyUnless(out, a, data, send.Done())
	select {
	case <-send.Done():
	case <-time.After(30 * time.Second):
		t.Fatalf("A's send --once did not end once B had it all:\n%s", send.Output())
	}
	if out := send.Output(); !strings.Contains(out, "starting one for this send") || !strings.Contains(out, "has it all: its get finished") {
		t.Errorf("A's send said:\n%s", out)
	}
	waitFor(t, 30*time.Second, "the daemon A's send started to stop", func() bool {
		_, err := os.Stat(filepath.Join(a.repo, "api"))
		return os.IsNotExist(err)
	})
}

// sentCode finds the code in what `kith send` prints.
var sentCode = regexp.MustCompile(`(?m)^  kith get ([0-9]{4}-[a-z]+-[a-z]+-[a-z]+)$`)
