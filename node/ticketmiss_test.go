package node

import (
	"context"
	"net"
	"syscall"
	"testing"
	"time"

	blocks "github.com/ipfs/go-block-format"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
	ma "github.com/multiformats/go-multiaddr"
)

func TestTicketMisses(t *testing.T) {
	c := blocks.NewBlock([]byte("shared")).Cid()
	other := blocks.NewBlock([]byte("other")).Cid()
	a, _ := peer.Decode("12D3KooWK9ncqoRZi1ZVrqrpJeTma8pJKdxA8arDd4aAuZdFNbT7")
	b, _ := peer.Decode("12D3KooWJUg2uaDTwPSFSpPjG6rRWGsoraYA23vaqGsMShZLbyKT")
	now := time.Now()
	none := func(peer.ID) bool { return false }
	var tm ticketMisses
	tm.failed(c, a, "/ip4/192.168.1.20/tcp/4101: connection refused (nothing listens there)", now)
	if got := ticketMissText(tm.unreached(c, now, none)); got != "The ticket's sharer (12D3Ko…dFNbT7) could not be reached: /ip4/192.168.1.20/tcp/4101: connection refused (nothing listens there)." {
		t.Fatalf("one sharer: %q", got)
	}
	if got := tm.unreached(other, now, none); len(got) != 0 {
		t.Fatalf("another content's miss: %v", got)
	}
	tm.failed(c, b, "no answer (timed out)", now)
	if got := ticketMissText(tm.unreached(c, now, none)); got != "None of the ticket's 2 sharers could be reached (12D3Ko…ZLbyKT: no answer (timed out); 12D3Ko…dFNbT7: /ip4/192.168.1.20/tcp/4101: connection refused (nothing listens there))." {
		t.Fatalf("two sharers: %q", got)
	}
	// Connected since (through the DHT, say): not unreached any more.
	if got := tm.unreached(c, now, func(p peer.ID) bool { return p == b }); len(got) != 1 || got[a] == "" {
		t.Fatalf("with b connected: %v", got)
	}
	tm.reached(c, a)
	tm.reached(c, b)
	if got := tm.unreached(c, now, none); len(got) != 0 {
		t.Fatalf("after both were reached: %v", got)
	}
	tm.failed(c, a, "x", now)
	if got := tm.unreached(c, now.Add(ticketPeerTTL+time.Second), none); len(got) != 0 {
		t.Fatalf("a miss older than the ticket's peers are kept: %v", got)
	}
	for i := range maxTicketMisses + 10 {
		tm.failed(blocks.NewBlock([]byte{byte(i), 1}).Cid(), a, "x", now.Add(time.Duration(i+1)*time.Second))
	}
	if len(tm.m) != maxTicketMisses {
		t.Fatalf("%d contents remembered, want at most %d", len(tm.m), maxTicketMisses)
	}
	if _, ok := tm.m[c]; ok {
		t.Fatal("the oldest miss was kept over newer ones")
	}
}

// TestTicketDialText: a dial refused by the swarm's back-off (soon after
// one that failed) is said with why that address's last real dial failed,
// not "dial backoff"; an address never dialled for real stays so.
func TestTicketDialText(t *testing.T) {
	a, _ := peer.Decode("12D3KooWK9ncqoRZi1ZVrqrpJeTma8pJKdxA8arDd4aAuZdFNbT7")
	b, _ := peer.Decode("12D3KooWJUg2uaDTwPSFSpPjG6rRWGsoraYA23vaqGsMShZLbyKT")
	tcp, quic := ma.StringCast("/ip4/127.0.0.1/tcp/4101"), ma.StringCast("/ip4/127.0.0.1/udp/4101/quic-v1")
	dialErr := func(p peer.ID, tcpCause, quicCause error) error {
		return &swarm.DialError{Peer: p, Cause: swarm.ErrAllDialsFailed, DialErrors: []swarm.TransportError{
			{Address: tcp, Cause: tcpCause}, {Address: quic, Cause: quicCause}}}
	}
	var tm ticketMisses
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	const real = "/ip4/127.0.0.1/tcp/4101: connection refused (nothing listens there); /ip4/127.0.0.1/udp/4101/quic-v1: no answer (timed out)"
	for _, tc := range []struct {
		what string
		p    peer.ID
		err  error
		want string
	}{
		{"a real dial", a, dialErr(a, refused, context.DeadlineExceeded), real},
		{"then both backed off", a, dialErr(a, swarm.ErrDialBackoff, swarm.ErrDialBackoff), real},
		{"one backed off", a, dialErr(a, swarm.ErrDialBackoff, refused),
			"/ip4/127.0.0.1/tcp/4101: connection refused (nothing listens there); /ip4/127.0.0.1/udp/4101/quic-v1: connection refused (nothing listens there)"},
		{"another peer, never dialled for real", b, dialErr(b, swarm.ErrDialBackoff, swarm.ErrDialBackoff),
			"/ip4/127.0.0.1/tcp/4101: dial backoff; /ip4/127.0.0.1/udp/4101/quic-v1: dial backoff"},
		{"no dial error", a, context.Canceled, dialReason(context.Canceled)},
	} {
		if got := tm.dialText(tc.p, tc.err); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.what, got, tc.want)
		}
	}
}
