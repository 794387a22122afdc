//go:build linux

package internet_test

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kith-p2p/kith/cmd/kith/internet/netlab"
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
	a.stop() // A's repo is set up for the lab; send runs a daemon of its own
	data := make([]byte, 4<<20)
	rand.Read(data)
	src := filepath.Join(a.files, "notes.bin")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	send := netlab.Start(t, a.host.Command(kithBin, "--repo", a.repo, "send", "--once", src))
	var code string
	waitFor(t, 60*time.Second, "A's send to print its code", func() bool {
		if m := sentCode.FindStringSubmatch(send.Output()); m != nil {
			code = m[1]
		}
		return code != ""
	})
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
	got, err := os.ReadFile(out)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("B's copy differs from A's file (%d of %d bytes, err %v)", len(got), len(data), err)
	}
	if ps := b.peers(); !hasDirectConnTo(ps, a.id.PeerID, int64(len(data))) {
		t.Fatalf("the file did not come over a direct connection to A: %+v", ps)
	}
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
