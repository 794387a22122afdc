package code

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	tcptransport "github.com/libp2p/go-libp2p/p2p/transport/tcp"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestNewAndParse: a new code parses as itself; a code typed with
// capitals, spaces or a word's first four letters is the same code;
// anything else is no code.
func TestNewAndParse(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		c, err := New()
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := Parse(c); !ok || got != c {
			t.Fatalf("Parse(%q) = %q, %v", c, got, ok)
		}
		seen[c] = true
	}
	if len(seen) < 50 {
		t.Errorf("50 codes made, %d different", len(seen))
	}
	for _, tc := range []struct {
		in, want string
	}{
		{"7961-orbit-canyon-velvet", "7961-orbit-canyon-velvet"},
		{" 7961 Orbit CANYON velvet ", "7961-orbit-canyon-velvet"},
		{"0007-orbi-cany-velv", "0007-orbit-canyon-velvet"},
		{"7961-orbit-canyon", ""},               // a word short
		{"7961-orbit-canyon-velvet-zoo", ""},    // a word over
		{"961-orbit-canyon-velvet", ""},         // three digits
		{"79a1-orbit-canyon-velvet", ""},        // not a number
		{"7961-orbit-canyon-velvets", ""},       // not a word
		{"7961-orb-canyon-velvet", ""},          // three letters: no word
		{"holiday-2026", ""},                    // a pin's name
		{"bafybeigdyrzt5sfp7udm7hu76uh7y2", ""}, // a CID
	} {
		got, ok := Parse(tc.in)
		if ok != (tc.want != "") || got != tc.want {
			t.Errorf("Parse(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
}

// TestMistyped: what reads as an attempt at a code but is none is said to
// be so, and why; anything else is not taken for one.
func TestMistyped(t *testing.T) {
	for _, tc := range []struct {
		in, why string
	}{
		{"7961-orbit-canyon-velvetx", "velvetx is not one of the words codes are made of: check the spelling"},
		{"7961 orbt canyon velvetx", "orbt and velvetx are not words codes are made of: check the spelling"},
		{"7961-orbit-canyon", "a code is a number and 3 words; this has 2"},
		{"7961-orbit-canyon-velvet", ""}, // a code
		{"holiday-2026", ""},
		{"2026-holiday.jpg", ""},
		{"1234", ""},
		{"bafybeigdyrzt5sfp7udm7hu76uh7y2", ""},
	} {
		why, ok := Mistyped(tc.in)
		if ok != (tc.why != "") || why != tc.why {
			t.Errorf("Mistyped(%q) = %q, %v; want %q", tc.in, why, ok, tc.why)
		}
	}
}

// TestKeys: one code gives the same keys every time, two codes different
// ones; a proof holds only for the code, and the two peers, it was made for.
func TestKeys(t *testing.T) {
	k1, err := KeysOf("7961-orbit-canyon-velvet")
	if err != nil {
		t.Fatal(err)
	}
	again, _ := KeysOf("7961-orbit-canyon-velvet")
	k2, _ := KeysOf("7962-orbit-canyon-velvet")
	if !k1.Rendezvous.Equals(again.Rendezvous) || !bytes.Equal(k1.proof, again.proof) {
		t.Error("one code gave two sets of keys")
	}
	if k1.Rendezvous.Equals(k2.Rendezvous) || bytes.Equal(k1.proof, k2.proof) {
		t.Error("two codes gave the same keys")
	}
	if strings.Contains(k1.Rendezvous.String(), "orbit") {
		t.Error("the rendezvous names the code")
	}
	a, b, c := peer.ID("peer-a"), peer.ID("peer-b"), peer.ID("peer-c")
	p := k1.Proof(a, b)
	for _, tc := range []struct {
		name     string
		k        Keys
		from, to peer.ID
		want     bool
	}{
		{"the code, from a to b", k1, a, b, true},
		{"another code", k2, a, b, false},
		{"replayed by c", k1, c, b, false},
		{"sent to c", k1, a, c, false},
		{"the other way", k1, b, a, false},
	} {
		if !tc.k.About(tc.k.Question(tc.from, tc.to)) || tc.k.About(k2.Question(a, b)) == (tc.k.spot == k1.spot) {
			t.Errorf("%s: About does not tell the codes apart", tc.name)
		}
		if got := tc.k.Proves(p, tc.from, tc.to); got != tc.want {
			t.Errorf("%s: Proves = %v, want %v", tc.name, got, tc.want)
		}
	}
	if _, err := KeysOf("not a code"); err == nil {
		t.Error("KeysOf took what is no code")
	}
}

// TestAnswerCodec: answers cross net.Pipe; a bad status or length is
// malformed.
func TestAnswerCodec(t *testing.T) {
	for _, ticket := range []string{"kith1amsac4asea", ""} {
		a, b := net.Pipe()
		go func() { _ = WriteAnswer(a, ticket); a.Close() }()
		got, err := ReadAnswer(b)
		b.Close()
		if ticket == "" && !errors.Is(err, ErrUnknown) || ticket != "" && (err != nil || got != ticket) {
			t.Errorf("answer %q read as %q, %v", ticket, got, err)
		}
	}
	for name, in := range map[string][]byte{
		"status":    {7},
		"empty":     {StatusOK, 0},
		"too long":  {StatusOK, 0x81, 0x40}, // 8193
		"cut short": {StatusOK, 10, 'k'},
	} {
		if _, err := ReadAnswer(bytes.NewReader(in)); err == nil || errors.Is(err, ErrUnknown) {
			t.Errorf("%s: ReadAnswer: %v", name, err)
		}
	}
	if err := WriteAnswer(&bytes.Buffer{}, strings.Repeat("k", MaxTicket+1)); err == nil {
		t.Error("WriteAnswer sent a ticket over the bound")
	}
}

// TestAsk: a peer serving the protocol gives the ticket to a getter that
// proves the code, and nothing to one that does not; a peer not
// connected is never dialled.
func TestAsk(t *testing.T) {
	sender, getter, other := loopbackHost(t), loopbackHost(t), loopbackHost(t)
	k, err := KeysOf("7961-orbit-canyon-velvet")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		asked []Question
	)
	stop := Serve(sender, func(from peer.ID, q Question) string {
		mu.Lock()
		asked = append(asked, q)
		mu.Unlock()
		if k.About(q) && k.Proves(q.Proof, from, sender.ID()) {
			return "kith1ticket"
		}
		return ""
	})
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, h := range []host.Host{getter, other} {
		if err := h.Connect(ctx, peer.AddrInfo{ID: sender.ID(), Addrs: sender.Addrs()}); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := Ask(ctx, getter, sender.ID(), k); err != nil || got != "kith1ticket" {
		t.Fatalf("Ask = %q, %v", got, err)
	}
	wrong, _ := KeysOf("7961-orbit-canyon-vessel")
	if _, err := Ask(ctx, other, sender.ID(), wrong); !errors.Is(err, ErrUnknown) {
		t.Fatalf("Ask with another code: %v, want ErrUnknown", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(asked) != 2 || !k.About(asked[0]) || k.About(asked[1]) || !wrong.About(asked[1]) {
		t.Errorf("the questions asked name the wrong codes: %+v", asked)
	}
	if err := getter.Network().ClosePeer(sender.ID()); err != nil {
		t.Fatal(err)
	}
	if _, err := Ask(ctx, getter, sender.ID(), k); err == nil {
		t.Fatal("Ask dialled a peer not connected")
	}
}

func loopbackHost(tb testing.TB) host.Host {
	tb.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableRelay(),
		libp2p.NoTransports, libp2p.Transport(tcptransport.NewTCPTransport))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = h.Close() })
	return h
}

// BenchmarkKeysOf is the Argon2id cost a send and a get each pay once.
func BenchmarkKeysOf(b *testing.B) {
	for b.Loop() {
		if _, err := KeysOf("7961-orbit-canyon-velvet"); err != nil {
			b.Fatal(err)
		}
	}
}
