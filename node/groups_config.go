package node

import (
	"time"

	"github.com/kith-p2p/kith/protocol/group"
)

// GroupsConfig configures group replication: the timings every group this
// node is in runs with, and how much disk it offers to others.
type GroupsConfig struct {
	// HeartbeatInterval is how often we tell each group we are alive and
	// what we hold, and re-plan our replicas.
	HeartbeatInterval Duration `json:"heartbeat_interval"`
	// Grace is how long a silent member keeps its copies before they are
	// placed on others: longer than a laptop's usual sleep.
	Grace Duration `json:"grace"`
	// ReleaseDelay is how long a copy must have been surplus before we drop
	// it, so a member waking up does not make copies flap.
	ReleaseDelay Duration `json:"release_delay"`
	// SyncInterval is how often we reconcile state with a random member,
	// for whatever gossip missed.
	SyncInterval Duration `json:"sync_interval"`
	// TombstoneHorizon is how long the record of an unshare or of a member
	// who left is kept (so that a late copy of an older version cannot bring
	// it back) before it is dropped and the state shrinks. A member away for
	// longer catches up from a snapshot instead of merging.
	TombstoneHorizon Duration `json:"tombstone_horizon"`
	// BudgetPercent of the free disk space, capped at BudgetMax bytes, is
	// what we offer a group we create or join for others' content; 0
	// offers none: the device shares, gets and follows, and keeps no
	// group's copies (those it kept move to other members).
	BudgetPercent int   `json:"budget_percent"`
	BudgetMax     int64 `json:"budget_max"`
	// FetchConcurrency bounds how many replicas we fetch at once.
	FetchConcurrency int `json:"fetch_concurrency"`
	// WatchInterval is how often each folder shared with --watch is
	// looked at (a listing: names, sizes, times) for a change to share,
	// besides the looks a change the system reports asks for (Linux); and
	// how often each folder that follows a share (get --follow) looks for
	// a newer version besides each change of the group (and how long a
	// version it failed to write waits before it is tried again).
	WatchInterval Duration `json:"watch_interval"`
	// WatchNotify has the system report changes in watched folders
	// (Linux: inotify, one kernel watch per folder), so that a change is
	// shared seconds after it, not at the next WatchInterval.
	WatchNotify bool `json:"watch_notify"`
	// WatchSettle is how long a changed folder must stay the same before
	// it is shared again. Tests only: it is not read from the config file.
	WatchSettle Duration `json:"-"`
	// GossipHeartbeat overrides GossipSub's mesh heartbeat (1 s). Tests
	// only: it is not read from the config file.
	GossipHeartbeat Duration `json:"-"`
}

// DefaultGroupsConfig returns the defaults: laptops on home networks.
func DefaultGroupsConfig() GroupsConfig {
	d := group.DefaultConfig()
	return GroupsConfig{
		HeartbeatInterval: Duration(d.HeartbeatInterval),
		Grace:             Duration(d.Grace),
		ReleaseDelay:      Duration(d.ReleaseDelay),
		SyncInterval:      Duration(5 * time.Minute),
		TombstoneHorizon:  Duration(d.CompactionHorizon),
		BudgetPercent:     20,
		BudgetMax:         100 << 30,
		FetchConcurrency:  2,
		WatchInterval:     Duration(time.Minute),
		WatchNotify:       true,
		WatchSettle:       Duration(2 * time.Second),
	}
}

// groupConfig is the package group timings from c, filling what an older
// config file lacks with defaults.
func (c GroupsConfig) groupConfig() group.Config {
	g := group.DefaultConfig()
	if c.HeartbeatInterval > 0 {
		g.HeartbeatInterval = time.Duration(c.HeartbeatInterval)
		g.SuspectAfter = group.SuspectBeats * g.HeartbeatInterval
	}
	if c.Grace > 0 {
		g.Grace = time.Duration(c.Grace)
	}
	if c.ReleaseDelay > 0 {
		g.ReleaseDelay = time.Duration(c.ReleaseDelay)
	}
	if c.TombstoneHorizon > 0 {
		g.CompactionHorizon = time.Duration(c.TombstoneHorizon)
	}
	return g
}

// budget is what we offer a group: BudgetPercent of free bytes, capped.
func (c GroupsConfig) budget(free int64) int64 {
	b := free / 100 * int64(max(c.BudgetPercent, 0))
	if c.BudgetMax > 0 && b > c.BudgetMax {
		b = c.BudgetMax
	}
	return b
}
