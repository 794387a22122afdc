package node

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/protocol/code"
	"github.com/kith-p2p/kith/protocol/ticket"
	"github.com/kith-p2p/kith/web/api"
)

// TestCodeBetweenConnectedPeers: a code A opens for what it added is
// resolved by a connected B (typed with capitals and spaces) to A's ticket
// of it; another code is not found; once the request that opened it ends,
// neither is the code.
func TestCodeBetweenConnectedPeers(t *testing.T) {
	a, b := newLocalNode(t), newLocalNode(t)
	root := addData(t, a, randomData(1<<20))
	connect(t, b, a.Host())
	ctx := context.Background()
	open, stop := context.WithCancel(ctx)
	defer stop()
	c, closed, err := a.OpenCode(open, root)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := code.Parse(c); !ok {
		t.Fatalf("OpenCode gave %q, no code", c)
	}
	typed := strings.ToUpper(strings.ReplaceAll(c, "-", " "))
	tk, err := b.ResolveCode(ctx, typed)
	if err != nil {
		t.Fatalf("ResolveCode(%q): %v", typed, err)
	}
	parsed, err := ticket.Parse(tk)
	if err != nil || !parsed.Cid.Equals(root) || len(parsed.Peers) != 1 || parsed.Peers[0].ID != a.Host().ID() {
		t.Fatalf("the code gave ticket %+v (%v), want A's of %s", parsed, err, root)
	}
	other := otherCode(t, c)
	short, cancel := context.WithTimeout(ctx, 3*time.Second) // it would look for a minute
	defer cancel()
	if _, err := b.ResolveCode(short, other); api.KindOf(err) != api.KindNotFound {
		t.Fatalf("ResolveCode of another code: %v, want not found", err)
	}
	if _, err := b.ResolveCode(ctx, "holiday-2026"); api.KindOf(err) != api.KindInvalid {
		t.Fatalf("ResolveCode of what is no code: %v, want invalid", err)
	}
	stop()
	waitFor(t, 20*time.Second, "the code to close once its request ended", func() bool {
		short, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		_, err := b.ResolveCode(short, c)
		return api.KindOf(err) == api.KindNotFound
	})
	select {
	case err := <-closed:
		t.Fatalf("the daemon said it closed the code (%v): the caller did", err)
	default:
	}
}

// TestCodeClosesAfterWrongProofs: after maxWrongProofs wrong proofs of an
// open code (questions about it that do not prove it) the daemon closes it
// and says why; the right code then finds nothing. Questions about other
// codes do not count.
func TestCodeClosesAfterWrongProofs(t *testing.T) {
	a, b := newLocalNode(t), newLocalNode(t)
	root := addData(t, a, randomData(1<<10))
	connect(t, b, a.Host())
	ctx := context.Background()
	c, closed, err := a.OpenCode(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	right, err := code.KeysOf(c)
	if err != nil {
		t.Fatal(err)
	}
	// Questions about another code (a getter that asks every peer it is
	// connected to, a code mistyped) are no wrong proofs of this one.
	other, _ := code.KeysOf(otherCode(t, c))
	for range 2 * maxWrongProofs {
		if _, err := code.Ask(ctx, b.Host(), a.Host().ID(), other); !errors.Is(err, code.ErrUnknown) {
			t.Fatalf("a question about another code: %v", err)
		}
	}
	// Wrong proofs of this one (someone who saw its rendezvous in the DHT).
	q := right.Question(b.Host().ID(), a.Host().ID())
	q.Proof[0] ^= 1
	for i := range maxWrongProofs {
		select {
		case err := <-closed:
			t.Fatalf("closed after %d wrong proofs: %v", i, err)
		default:
		}
		if _, err := code.AskQuestion(ctx, b.Host(), a.Host().ID(), q); !errors.Is(err, code.ErrUnknown) {
			t.Fatalf("wrong proof %d: %v", i+1, err)
		}
	}
	select {
	case err := <-closed:
		if !errors.Is(err, errWrongProofs) {
			t.Fatalf("closed: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the code stayed open after the wrong proofs")
	}
	if _, err := code.Ask(ctx, b.Host(), a.Host().ID(), right); !errors.Is(err, code.ErrUnknown) {
		t.Fatalf("the right proof after the code closed: %v", err)
	}
	// Its rendezvous is withdrawn at once, not when the send ends.
	waitFor(t, 10*time.Second, "the closed code's rendezvous to be withdrawn", func() bool {
		ok, err := a.dht.Providing(ctx, right.Rendezvous)
		return err == nil && !ok
	})
}

// otherCode is a code that differs from c in its number.
func otherCode(t *testing.T, c string) string {
	t.Helper()
	n := "0000"
	if strings.HasPrefix(c, n) {
		n = "0001"
	}
	return n + c[4:]
}

// TestCodeRendezvous: an open code's rendezvous is announced and noted in
// the repo (never the code), and neither once it closed; a rendezvous
// noted by a daemon that stopped without closing its code (a crash) is no
// longer announced once the daemon starts again.
func TestCodeRendezvous(t *testing.T) {
	dir := t.TempDir()
	cfg := func(c *Config) { c.DHT.ReprovideInterval = Duration(time.Minute) }
	a := newNodeAt(t, dir, cfg)
	root := addData(t, a, randomData(1<<10))
	ctx := context.Background()
	open, stop := context.WithCancel(ctx)
	c, _, err := a.OpenCode(open, root)
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := code.KeysOf(c)
	providing := func(n *Node, k cid.Cid) bool {
		t.Helper()
		ok, err := n.dht.Providing(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !providing(a, keys.Rendezvous) {
		t.Fatal("the open code's rendezvous is not announced")
	}
	noted, err := os.ReadFile(filepath.Join(dir, codesFile))
	if err != nil || !strings.Contains(string(noted), keys.Rendezvous.String()) || strings.Contains(string(noted), c) {
		t.Fatalf("%s holds %q (%v): want the rendezvous, never the code", codesFile, noted, err)
	}
	stop()
	waitFor(t, 10*time.Second, "the closed code's rendezvous to be withdrawn", func() bool {
		noted, _ := os.ReadFile(filepath.Join(dir, codesFile))
		return !providing(a, keys.Rendezvous) && !strings.Contains(string(noted), keys.Rendezvous.String())
	})

	// A crash with a code open: its rendezvous stays in the keystore, and
	// noted. (Provided here directly, as the open code did.)
	other, _ := code.KeysOf(otherCode(t, c))
	left := other.Rendezvous
	if err := a.dht.Provide(ctx, left); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, codesFile), []byte(`["`+left.String()+`"]`), 0o600); err != nil {
		t.Fatal(err)
	}
	b := newNodeAt(t, dir, cfg)
	if providing(b, left) {
		t.Error("the rendezvous of a code left open is still announced after the restart")
	}
	if _, err := os.Stat(filepath.Join(dir, codesFile)); !os.IsNotExist(err) {
		t.Errorf("%s is still there: %v", codesFile, err)
	}
}
