package group

import (
	"errors"
	"testing"
	"time"
)

func TestClockMonotonicWhenWallGoesBack(t *testing.T) {
	ft := newFakeTime()
	c := clockAt(testID(1), ft)
	a := c.Now()
	ft.add(-time.Hour) // the wall clock jumps back
	b := c.Now()
	if b.Compare(a) <= 0 {
		t.Fatalf("clock went back: %s then %s", a, b)
	}
	ft.add(2 * time.Hour)
	if d := c.Now(); d.Compare(b) <= 0 || d.Count != 0 {
		t.Fatalf("clock did not follow the wall forward: %s", d)
	}
}

func TestClockObserve(t *testing.T) {
	ft := newFakeTime()
	c := clockAt(testID(1), ft)
	remote := HLC{Wall: t0.Add(time.Minute).UnixMilli(), Count: 7, Node: testID(2)}
	if err := c.Observe(remote); err != nil {
		t.Fatal(err)
	}
	if got := c.Now(); got.Compare(remote) <= 0 {
		t.Fatalf("Now %s not after observed %s", got, remote)
	}
	far := HLC{Wall: t0.Add(time.Hour).UnixMilli(), Node: testID(2)}
	if err := c.Observe(far); !errors.Is(err, ErrClockSkew) {
		t.Fatalf("observe far future: %v, want ErrClockSkew", err)
	}
	if got := c.Now(); got.Wall >= far.Wall {
		t.Fatalf("a refused timestamp moved the clock to %s", got)
	}
}

func TestHLCOrderTieBreaksByNode(t *testing.T) {
	a := HLC{Wall: 5, Count: 1, Node: testID(1)}
	b := HLC{Wall: 5, Count: 1, Node: testID(2)}
	if a.Compare(b) == 0 || a.Compare(b) != -b.Compare(a) {
		t.Fatalf("equal wall and count must be ordered by node")
	}
}
