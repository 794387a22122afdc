package node

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/sec"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
)

// dialReason says in one line why a dial failed: each address tried and
// what came of it, in a person's words ("/ip4/192.168.1.20/tcp/4001:
// connection refused (nothing listens there)"), rather than libp2p's report
// of nested "failed to dial" lines.
func dialReason(err error) string {
	var de *swarm.DialError
	if !errors.As(err, &de) {
		return causeText(err)
	}
	if len(de.DialErrors) == 0 || (de.Cause != nil && !errors.Is(de.Cause, swarm.ErrAllDialsFailed)) {
		if de.Cause == nil {
			return "no address to dial"
		}
		return causeText(de.Cause)
	}
	parts := make([]string, 0, len(de.DialErrors))
	for _, te := range de.DialErrors {
		parts = append(parts, fmt.Sprintf("%s: %s", te.Address, causeText(te.Cause)))
	}
	s := strings.Join(parts, "; ")
	if de.Skipped > 0 {
		s += fmt.Sprintf("; and %d more addresses", de.Skipped)
	}
	return s
}

// dialFailures says in one line why each of several dials failed (a
// bootstrap's, joined): "12D3Ko…f82n6s: /ip4/...: connection refused
// (nothing listens there)", at most max peers, then how many more. An error
// with no dial failure in it is worded by causeText.
func dialFailures(err error, max int) string {
	var des []*swarm.DialError
	var walk func(error)
	walk = func(err error) {
		if de, ok := err.(*swarm.DialError); ok {
			des = append(des, de)
			return
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			if e := u.Unwrap(); e != nil {
				walk(e)
			}
		}
	}
	walk(err)
	if len(des) == 0 {
		return causeText(err)
	}
	parts := make([]string, 0, min(len(des), max)+1)
	for i, de := range des {
		if i == max {
			parts = append(parts, fmt.Sprintf("and %d more", len(des)-max))
			break
		}
		parts = append(parts, shortID(de.Peer)+": "+dialReason(de))
	}
	return strings.Join(parts, "; ")
}

// causeText words the failure of one dial.
func causeText(err error) string {
	var mismatch sec.ErrPeerIDMismatch
	switch {
	case errors.As(err, &mismatch):
		return fmt.Sprintf("another peer answers there (%s)", shortID(mismatch.Actual))
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused (nothing listens there)"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "no route to that address from here"
	case errors.Is(err, context.DeadlineExceeded), os.IsTimeout(err):
		return "no answer (timed out)"
	case errors.Is(err, swarm.ErrNoAddresses):
		return "no address known"
	case errors.Is(err, swarm.ErrNoGoodAddresses):
		return "no address this node can dial (a /dnsaddr name that did not resolve, or only transports it lacks)"
	case errors.Is(err, swarm.ErrGaterDisallowedConnection):
		return "refused by this node's own connection rules"
	}
	return err.Error()
}

// shortID is a peer ID cut to what a person compares by eye.
func shortID(p peer.ID) string {
	s := p.String()
	if len(s) > 16 {
		return s[:6] + "…" + s[len(s)-6:]
	}
	return s
}
