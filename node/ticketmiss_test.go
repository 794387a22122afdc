package node

import (
	"testing"
	"time"

	blocks "github.com/ipfs/go-block-format"
	"github.com/libp2p/go-libp2p/core/peer"
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
