package dht

import (
	"testing"
)

// TestProvideNow checks ProvideNow's contract: it announces by itself (B gets
// the record; ADD_PROVIDER is one-way, so its arrival is awaited), and it
// reports failure when there is nobody to announce to, while Provide only
// queues.
func TestProvideNow(t *testing.T) {
	ctx := testContext(t)
	a, b, _ := chain(t, ctx)
	k := testCID(t, "provide now")
	if err := a.d.ProvideNow(ctx, k); err != nil {
		t.Fatalf("A provide now: %v", err)
	}
	waitFor(t, "B to store A's record", func() bool { return storedProvider(t, b, k, a.h.ID()) })

	lone := newNode(t)
	if err := lone.d.ProvideNow(ctx, k); err == nil {
		t.Fatal("ProvideNow on a node without peers succeeded")
	}
	if err := lone.d.Provide(ctx, k); err != nil {
		t.Fatalf("Provide on a node without peers: %v", err)
	}
}

// TestProvideBeforeBootstrap: a key provided while the node has no peers is
// kept and announced once the node is online, without waiting for the
// (default, 22h) reprovide interval.
func TestProvideBeforeBootstrap(t *testing.T) {
	ctx := testContext(t)
	b := newNode(t)
	a := newNode(t, bootstrapPeers(b))
	k := testCID(t, "provide before bootstrap")
	if err := a.d.Provide(ctx, k); err != nil {
		t.Fatalf("provide before bootstrap: %v", err)
	}
	bootstrap(t, ctx, a)
	waitFor(t, "B to store A's record", func() bool { return storedProvider(t, b, k, a.h.ID()) })
}
