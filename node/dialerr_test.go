package node

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/sec"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
	ma "github.com/multiformats/go-multiaddr"
)

func TestDialReason(t *testing.T) {
	a1 := ma.StringCast("/ip4/192.168.1.20/tcp/4001")
	a2 := ma.StringCast("/ip4/192.168.1.20/udp/4001/quic-v1")
	other, err := peer.Decode("12D3KooWK9ncqoRZi1ZVrqrpJeTma8pJKdxA8arDd4aAuZdFNbT7")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"refused and timed out", fmt.Errorf("failed to dial: %w", &swarm.DialError{Cause: swarm.ErrAllDialsFailed, DialErrors: []swarm.TransportError{
			{Address: a1, Cause: fmt.Errorf("dial tcp4 192.168.1.20:4001: connect: %w", syscall.ECONNREFUSED)},
			{Address: a2, Cause: context.DeadlineExceeded},
		}}), "/ip4/192.168.1.20/tcp/4001: connection refused (nothing listens there); /ip4/192.168.1.20/udp/4001/quic-v1: no answer (timed out)"},
		{"another peer", &swarm.DialError{Cause: swarm.ErrAllDialsFailed, DialErrors: []swarm.TransportError{
			{Address: a1, Cause: fmt.Errorf("failed to negotiate security protocol: %w", sec.ErrPeerIDMismatch{Actual: other})},
		}}, "/ip4/192.168.1.20/tcp/4001: another peer answers there (12D3Ko…dFNbT7)"},
		{"more addresses than recorded", &swarm.DialError{Cause: swarm.ErrAllDialsFailed, Skipped: 3, DialErrors: []swarm.TransportError{
			{Address: a1, Cause: syscall.EHOSTUNREACH},
		}}, "/ip4/192.168.1.20/tcp/4001: no route to that address from here; and 3 more addresses"},
		{"no addresses", &swarm.DialError{Cause: swarm.ErrNoAddresses}, "no address known"},
		{"gated", &swarm.DialError{Cause: swarm.ErrGaterDisallowedConnection}, "refused by this node's own connection rules"},
		{"not a dial error", errors.New("something else"), "something else"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := dialReason(tc.err)
			if got != tc.want {
				t.Fatalf("dialReason = %q, want %q", got, tc.want)
			}
			if strings.Contains(got, "failed to dial") || strings.Contains(got, "\n") {
				t.Fatalf("dialReason kept libp2p's report: %q", got)
			}
		})
	}
}
