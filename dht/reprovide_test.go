package dht

import (
	"testing"
)

// TestReprovideReachesLateJoiner: a node that joins after A announced a key
// receives A's provider record only if A reprovides. Nothing else sends it:
// A's own announcements before D existed cannot have reached D.
func TestReprovideReachesLateJoiner(t *testing.T) {
	ctx := testContext(t)
	counter := newAddProviderCounter()
	b := newNode(t, counter.option())
	a := newNode(t, bootstrapPeers(b), WithReprovideInterval(shortReprovide))
	bootstrap(t, ctx, a)

	k := testCID(t, "reprovide late joiner")
	if err := a.d.ProvideNow(ctx, k); err != nil {
		t.Fatalf("A provide now: %v", err)
	}
	// Two records on B: ProvideNow's, and at least one sweep by the
	// provider. From here on, only scheduled reprovides send the record, so
	// D cannot get it from the provider's start-up catch-up either.
	waitFor(t, "a provider sweep to reach B", func() bool { return counter.count(a.h.ID(), k) >= 2 })

	d := newNode(t, bootstrapPeers(b))
	bootstrap(t, ctx, d)
	waitFor(t, "A's reprovide to reach late joiner D", func() bool { return storedProvider(t, d, k, a.h.ID()) })
}

// TestStopProvidingStopsReprovides: after StopProviding(k1), k1 is no longer
// sent while k2, provided alongside, keeps being reprovided.
//
// With only A and B, the provider's keyspace has a single region (fewer than
// two other peers), so every sweep covers both keys: each reprovide of k2
// after StopProviding would also have carried k1.
func TestStopProvidingStopsReprovides(t *testing.T) {
	ctx := testContext(t)
	counter := newAddProviderCounter()
	b := newNode(t, counter.option())
	a := newNode(t, bootstrapPeers(b), WithReprovideInterval(shortReprovide))
	bootstrap(t, ctx, a)

	k1, k2 := testCID(t, "stop providing 1"), testCID(t, "stop providing 2")
	if err := a.d.ProvideNow(ctx, k1); err != nil {
		t.Fatalf("A provide now k1: %v", err)
	}
	if err := a.d.ProvideNow(ctx, k2); err != nil {
		t.Fatalf("A provide now k2: %v", err)
	}
	waitFor(t, "both keys to be reprovided to B", func() bool {
		return counter.count(a.h.ID(), k1) >= 2 && counter.count(a.h.ID(), k2) >= 2
	})

	if err := a.d.StopProviding(ctx, k1); err != nil {
		t.Fatalf("A stop providing k1: %v", err)
	}
	n1, n2 := counter.count(a.h.ID(), k1), counter.count(a.h.ID(), k2)
	// Three more sweeps: the first may have loaded the keys before
	// StopProviding, the next two cannot have.
	waitFor(t, "three more reprovides of k2", func() bool { return counter.count(a.h.ID(), k2) >= n2+3 })
	if got := counter.count(a.h.ID(), k1); got > n1+1 {
		t.Fatalf("k1 sent %d more times after StopProviding, want at most 1 (a sweep already in flight)", got-n1)
	}
}
