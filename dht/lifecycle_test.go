package dht

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p-kad-dht/provider"
	"github.com/libp2p/go-libp2p/core/peer"
	"go.uber.org/goleak"
)

// TestNewFailsWithoutLeaking: invalid options are rejected before anything
// starts, and a failure after kad-dht has started (here: the provider
// rejects its options) stops it again.
func TestNewFailsWithoutLeaking(t *testing.T) {
	// The host is closed before checking, so any goroutine left over from
	// the calls below is a leak. (Comparing against a snapshot taken with
	// the host running is unreliable: the host starts goroutines lazily.)
	before := goleak.IgnoreCurrent()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatalf("new host: %v", err)
	}

	cases := map[string][]Option{
		"unknown mode":            {WithMode(Mode(42))},
		"zero reprovide interval": {WithReprovideInterval(0)},
		"reprovide too rare":      {WithReprovideInterval(25 * time.Hour)},
		"nil datastore":           {WithDatastore(nil)},
		"bad bootstrap peer":      {WithBootstrapPeers([]peer.AddrInfo{{ID: ""}})},
		"bad protocol prefix":     {WithProtocolPrefix("kith")},
		"provider fails to start": {WithDual(false), withProviderOptions(provider.WithReplicationFactor(0))},
	}
	for name, opts := range cases {
		d, err := New(context.Background(), h, opts...)
		if err == nil {
			_ = d.Close()
			t.Errorf("%s: New succeeded", name)
			continue
		}
		t.Logf("%s: %v", name, err)
	}
	for _, p := range h.Mux().Protocols() {
		if strings.Contains(string(p), "/kad/") {
			t.Errorf("failed New left the %s handler on the host", p)
		}
	}
	if err := h.Close(); err != nil {
		t.Fatalf("close host: %v", err)
	}
	goleak.VerifyNone(t, before)
}

func TestProtocolAndClose(t *testing.T) {
	ctx := testContext(t)
	ds := dssync.MutexWrap(datastore.NewMapDatastore())
	n := newNode(t, WithDatastore(ds))
	if !slices.Contains(n.h.Mux().Protocols(), kithProtocol) {
		t.Fatalf("server DHT does not serve %s; host protocols: %v", kithProtocol, n.h.Mux().Protocols())
	}
	if slices.Contains(n.h.Mux().Protocols(), "/ipfs/kad/1.0.0") {
		t.Fatal("kith DHT speaks the Amino protocol")
	}
	k := testCID(t, "close")
	if err := n.d.Provide(ctx, k); err != nil {
		t.Fatalf("provide: %v", err)
	}

	if err := n.d.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := n.d.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if slices.Contains(n.h.Mux().Protocols(), kithProtocol) {
		t.Fatal("closed DHT still serves its protocol")
	}
	for name, err := range map[string]error{
		"Provide":       n.d.Provide(ctx, k),
		"ProvideNow":    n.d.ProvideNow(ctx, k),
		"StopProviding": n.d.StopProviding(ctx, k),
		"Bootstrap":     n.d.Bootstrap(ctx),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: got %v, want ErrClosed", name, err)
		}
	}
	if _, err := n.d.FindPeer(ctx, n.h.ID()); !errors.Is(err, ErrClosed) {
		t.Errorf("FindPeer after Close: got %v, want ErrClosed", err)
	}
	if _, ok := <-n.d.FindProviders(ctx, k, 1); ok {
		t.Error("FindProviders after Close sent a provider")
	}
	// A datastore given by the caller stays open and holds the keystore.
	if _, err := ds.Has(ctx, datastore.NewKey("/x")); err != nil {
		t.Fatalf("caller's datastore unusable after Close: %v", err)
	}
}

func TestBootstrapUnreachablePeer(t *testing.T) {
	ctx := testContext(t)
	gone := newHost(t)
	ai := peer.AddrInfo{ID: gone.ID(), Addrs: gone.Addrs()}
	if err := gone.Close(); err != nil {
		t.Fatal(err)
	}
	n := newNode(t, WithBootstrapPeers([]peer.AddrInfo{ai}))
	if err := n.d.Bootstrap(ctx); err == nil {
		t.Fatal("Bootstrap succeeded although its only bootstrap peer is down")
	}
	// The first node of a network has nobody to bootstrap from.
	if err := newNode(t).d.Bootstrap(ctx); err != nil {
		t.Fatalf("Bootstrap of a lone node: %v", err)
	}
}
