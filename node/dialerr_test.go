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
		{"no dialable address", &swarm.DialError{Cause: swarm.ErrNoGoodAddresses}, "no address this node can dial (a /dnsaddr name that did not resolve, or only transports it lacks)"},
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

func TestDialFailures(t *testing.T) {
	ids := make([]peer.ID, 3)
	for i, s := range []string{
		"12D3KooWK9ncqoRZi1ZVrqrpJeTma8pJKdxA8arDd4aAuZdFNbT7",
		"12D3KooWS2xTyEPuYCHJpjpEmabjrkdoKPWW6jvVKrjQFFm4R8zY",
		"12D3KooWJKYgG1x3Px1HmfkAKQwkksSD5zTUgDBnen3AZTsyDovK",
	} {
		id, err := peer.Decode(s)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = id
	}
	a := ma.StringCast("/ip4/127.0.0.1/tcp/37965")
	refused := func(p peer.ID) error {
		// As the DHT's bootstrap reports it: host.Connect's error, wrapped.
		return fmt.Errorf("connect to %s: %w", p, fmt.Errorf("failed to dial: %w", &swarm.DialError{Peer: p, Cause: swarm.ErrAllDialsFailed, DialErrors: []swarm.TransportError{
			{Address: a, Cause: fmt.Errorf("dial tcp4 127.0.0.1:37965: connect: %w", syscall.ECONNREFUSED)},
		}}))
	}
	joined := func(ps ...peer.ID) error {
		errs := make([]error, len(ps))
		for i, p := range ps {
			errs[i] = refused(p)
		}
		return fmt.Errorf("dht: bootstrap: %w", fmt.Errorf("no bootstrap peer reachable (%d tried): %w", len(ps), errors.Join(errs...)))
	}
	for _, tc := range []struct {
		name string
		err  error
		max  int
		want string
	}{
		{"one", joined(ids[0]), 5, "12D3Ko…dFNbT7: /ip4/127.0.0.1/tcp/37965: connection refused (nothing listens there)"},
		{"more than shown", joined(ids...), 2, "12D3Ko…dFNbT7: /ip4/127.0.0.1/tcp/37965: connection refused (nothing listens there); " +
			"12D3Ko…m4R8zY: /ip4/127.0.0.1/tcp/37965: connection refused (nothing listens there); and 1 more"},
		{"no dial in it", fmt.Errorf("bootstrap: %w", context.DeadlineExceeded), 5, "no answer (timed out)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := dialFailures(tc.err, tc.max); got != tc.want {
				t.Fatalf("dialFailures = %q, want %q", got, tc.want)
			}
		})
	}
}
