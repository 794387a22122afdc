package ticket

import (
	"bytes"
	"crypto/sha256"
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

// TestMeta: a ticket carries the CID of its content's modes and times
// (version 3), with or without a name; one without is written as before
// (versions 1 and 2), so the kith that reads those reads it.
func TestMeta(t *testing.T) {
	meta := cid.MustParse("bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq")
	tests := []struct {
		name    string
		meta    cid.Cid
		version byte
	}{
		{"", cid.Undef, version},
		{"holiday", cid.Undef, versionName},
		{"holiday", meta, versionMeta},
		{"", meta, versionMeta},
	}
	for _, tt := range tests {
		in := sample()
		in.Name, in.Meta = tt.name, tt.meta
		s := in.String()
		raw, err := enc.DecodeString(strings.ToUpper(s[len(Prefix):]))
		if err != nil || raw[0] != tt.version {
			t.Fatalf("%q %v: version %d (%v), want %d", tt.name, tt.meta, raw[0], err, tt.version)
		}
		out, err := Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		if out.Name != tt.name || !out.Meta.Equals(tt.meta) || !out.Cid.Equals(testCID) || len(out.Peers) != 1 || len(out.Peers[0].Addrs) != 2 {
			t.Errorf("%q %v: read back %+v", tt.name, tt.meta, out)
		}
	}
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
	named := sample()
	named.Name = "holiday.mp4"
	f.Add(named.String())
	named.Meta = testCID
	f.Add(named.String())
	f.Add(Prefix)
	f.Fuzz(func(t *testing.T, s string) {
		tk, err := Parse(s)
		if err != nil {
			return
		}
		if CleanName(tk.Name) != tk.Name {
			t.Fatalf("parsed a name that is not a clean file name: %q", tk.Name)
		}
		again, err := Parse(tk.String())
		if err != nil || !again.Cid.Equals(tk.Cid) || len(again.Peers) != len(tk.Peers) || again.Name != tk.Name || !again.Meta.Equals(tk.Meta) {
			t.Fatalf("a parsed ticket does not survive re-encoding: %v", err)
		}
	})
}

func TestName(t *testing.T) {
	tests := []struct{ name, written string }{
		{"holiday.mp4", "holiday.mp4"},
		{"Photos 2026", "Photos 2026"},
		{"été à Zürich", "été à Zürich"},
		{"", ""},
		{"a/b", "a_b"},
		{`..\evil`, ".._evil"},
		{"..", ""},
		{".", ""},
		{"   ", ""},
		{"what: now?", "what_ now_"},
		{"tab\there\x00", "tab_here_"},
		{"bad\xffutf8", "bad_utf8"},
		{"CON", "_CON"},
		{"nul.txt", "_nul.txt"},
		{"Com1.tar.gz", "_Com1.tar.gz"},
		{"LPT9", "_LPT9"},
		{"COM0", "COM0"},
		{"console.txt", "console.txt"},
		{"auxiliary", "auxiliary"},
		{"CON." + strings.Repeat("é", 130), "_CON." + strings.Repeat("é", 125)}, // 255 bytes, cut at a character
		{strings.Repeat("é", 200), strings.Repeat("é", 127)},                    // 255 bytes cut at a character
	}
	for _, tt := range tests {
		in := sample()
		in.Name = tt.name
		s := in.String()
		out, err := Parse(s)
		if err != nil {
			t.Fatalf("%q: %v", tt.name, err)
		}
		if out.Name != tt.written || !out.Cid.Equals(in.Cid) || len(out.Peers) != 1 {
			t.Errorf("%q: read back name %q (want %q), %+v", tt.name, out.Name, tt.written, out)
		}
		// No name: the version every kith reads.
		if noName := (tt.written == ""); noName != (s == func() string { v := sample(); return v.String() }()) {
			t.Errorf("%q: a ticket without a name must be the version-1 one", tt.name)
		}
	}
}

// TestParseDropsAnUnsafeName: a ticket made by hand with a name kith would
// not write is read without it, never trusted as a path.
func TestParseDropsAnUnsafeName(t *testing.T) {
	for _, name := range []string{"../../.bashrc", "/etc/passwd", "a\x00b", ".."} {
		var b bytes.Buffer
		b.WriteByte(versionName)
		putItem(&b, testCID.Bytes())
		putItem(&b, []byte(name))
		putUvarint(&b, 0)
		sum := sha256.Sum256(b.Bytes())
		b.Write(sum[:checksumLen])
		got, err := Parse(Prefix + strings.ToLower(enc.EncodeToString(b.Bytes())))
		if err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		if got.Name != "" || !got.Cid.Equals(testCID) {
			t.Errorf("%q: read as %+v, want the CID without a name", name, got)
		}
	}
}
