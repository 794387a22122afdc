package sim

import (
	"testing"
	"time"
)

func testConfig(t *testing.T) Config {
	cfg := DefaultConfig(1000)
	cfg.Duration = 90 * time.Minute // churn from 22 to 45 min; sleepers wake by 70 min
	if testing.Short() {
		cfg.Members, cfg.Intents = 200, 30
	}
	return cfg
}

// Sleep-only churn: members sleep for less than the grace period. Every
// member must converge and no copy may move: no fetch beyond the initial
// placement, no release, no flap.
func TestSleepOnlyChurnDoesNotMoveCopies(t *testing.T) {
	cfg := testConfig(t)
	res := Run(cfg)
	t.Log(res)
	if res.Unconverged != 0 {
		t.Fatalf("%d changes never converged", res.Unconverged)
	}
	if res.Placed == 0 {
		t.Fatal("intents never got their copies")
	}
	if want := cfg.Intents * cfg.Copies; res.Fetches != want || res.Releases != 0 || res.Flaps != 0 {
		t.Fatalf("copies moved under sleep-only churn: %d fetches (want %d), %d releases, %d flaps", res.Fetches, want, res.Releases, res.Flaps)
	}
}

// Members leaving for good and joining: copies are restored and the group
// converges. A copy released just before a chosen holder vanishes for good
// must be fetched again when that holder's grace period ends; that is a
// move caused by the leave, and it must stay rare.
func TestLeaveAndJoinRecovers(t *testing.T) {
	cfg := testConfig(t)
	cfg.Members /= 2
	cfg.Leavers, cfg.Joiners = cfg.Members/20, cfg.Members/20
	cfg.Duration = 3 * time.Hour
	res := Run(cfg)
	t.Log(res)
	if res.Unconverged != 0 {
		t.Fatalf("%d changes never converged", res.Unconverged)
	}
	if res.RecoveryMax == 0 || res.RecoveryMax > cfg.Group.Grace+cfg.Group.ReleaseDelay+30*time.Minute {
		t.Fatalf("recovery took %v", res.RecoveryMax)
	}
	if res.Flaps > cfg.Leavers/10 {
		t.Fatalf("%d flaps with %d leavers", res.Flaps, cfg.Leavers)
	}
}

func TestDeterministic(t *testing.T) {
	cfg := DefaultConfig(100)
	cfg.Intents, cfg.Duration, cfg.Leavers = 10, time.Hour, 5
	a, b := Run(cfg), Run(cfg)
	a.Wall, b.Wall = 0, 0
	if a != b {
		t.Fatalf("same seed, different runs:\n%v\n%v", a, b)
	}
}
