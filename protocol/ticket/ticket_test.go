package ticket

import (
	"errors"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

var (
	testCID  = cid.MustParse("bafkreicljtzuqjre64mv5kc5pf3plz2wsh2fjhkrof3v6rgdvkdfva24qe")
	testPeer = peer.ID(mustDecode("12D3KooWA1b2RkSKDfFyRRXXnGzRWDQFoPRVSGJstxA4q8DvwzqT"))
	relay    = "12D3KooWLboGzjRaDeskZjVj1cFcHGKw5LkeXzYBNJcQbC3CUwy2"
)

func mustDecode(s string) peer.ID {
	p, err := peer.Decode(s)
	if err != nil {
		panic(err)
	}
	return p
}

func sample() Ticket {
	return Ticket{Cid: testCID, Peers: []peer.AddrInfo{{ID: testPeer, Addrs: []ma.Multiaddr{
		ma.StringCast("/ip4/11.0.0.7/udp/4101/quic-v1"),
		ma.StringCast("/ip4/11.0.0.2/tcp/4101/p2p/" + relay + "/p2p-circuit"),
	}}}}
}

func TestRoundTrip(t *testing.T) {
	in := sample()
	s := in.String()
	if !strings.HasPrefix(s, Prefix) || strings.ToLower(s) != s || !IsTicket(s) {
		t.Fatalf("ticket %q is not lower-case with the %s prefix", s, Prefix)
	}
	out, err := Parse("  " + s + "\n")
	if err != nil {
		t.Fatal(err)
	}
	if !out.Cid.Equals(in.Cid) || len(out.Peers) != 1 || out.Peers[0].ID != testPeer || len(out.Peers[0].Addrs) != 2 {
		t.Fatalf("round trip gave %+v", out)
	}
	for i, a := range out.Peers[0].Addrs {
		if !a.Equal(in.Peers[0].Addrs[i]) {
			t.Errorf("address %d: %s, want %s", i, a, in.Peers[0].Addrs[i])
		}
	}
	t.Logf("a ticket with one peer and two addresses is %d characters", len(s))
}

func TestParseRefusesWhatIsNotATicket(t *testing.T) {
	good := sample().String()
	flip := []byte(good)
	c := flip[len(flip)/2]
	if c == 'a' {
		flip[len(flip)/2] = 'b'
	} else {
		flip[len(flip)/2] = 'a'
	}
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"a CID", testCID.String(), ErrNotTicket},
		{"empty", "", ErrNotTicket},
		{"one character changed", string(flip), ErrDamaged},
		{"cut short", good[:len(good)-7], ErrDamaged},
		{"not base32", Prefix + "!!!!", ErrDamaged},
		{"too long", Prefix + strings.Repeat("a", maxTicketSz), ErrDamaged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Parse(tt.in); !errors.Is(err, tt.want) {
				t.Errorf("Parse: %v, want %v", err, tt.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add(sample().String())
	f.Add(Prefix)
	f.Fuzz(func(t *testing.T, s string) {
		tk, err := Parse(s)
		if err != nil {
			return
		}
		again, err := Parse(tk.String())
		if err != nil || !again.Cid.Equals(tk.Cid) || len(again.Peers) != len(tk.Peers) {
			t.Fatalf("a parsed ticket does not survive re-encoding: %v", err)
		}
	})
}
