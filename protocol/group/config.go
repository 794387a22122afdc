package group

import "time"

// Config holds the timings of a group. The zero value is not useful; start
// from DefaultConfig (laptops on home networks) or TestConfig (milliseconds,
// for tests on loopback and the simulator).
type Config struct {
	// HeartbeatInterval: how often a member gossips a heartbeat. Tens of
	// seconds: idle traffic matters to laptop users. Default 30 s.
	HeartbeatInterval time.Duration
	// SuspectAfter: silence after which a member is shown as suspect. It
	// changes nothing in placement. Default 3 heartbeat intervals.
	SuspectAfter time.Duration
	// Grace: silence after which a member is gone: its copies are placed on
	// the next members in rank. Longer than a laptop's usual sleep. Default
	// 30 min.
	Grace time.Duration
	// ReleaseDelay: how long a copy must have been surplus (all chosen
	// holders live and holding it) before its holder releases it, so that a
	// holder waking up does not make copies flap. Default 15 min.
	ReleaseDelay time.Duration
	// CompactionHorizon: tombstones older than this are dropped. Default 7 days.
	CompactionHorizon time.Duration
}

// DefaultConfig returns the timings for real groups.
func DefaultConfig() Config {
	return Config{
		HeartbeatInterval: 30 * time.Second,
		SuspectAfter:      90 * time.Second,
		Grace:             30 * time.Minute,
		ReleaseDelay:      15 * time.Minute,
		CompactionHorizon: DefaultCompactionHorizon,
	}
}

// TestConfig returns timings in milliseconds, for tests.
func TestConfig() Config {
	return Config{
		HeartbeatInterval: 10 * time.Millisecond,
		SuspectAfter:      30 * time.Millisecond,
		Grace:             200 * time.Millisecond,
		ReleaseDelay:      100 * time.Millisecond,
		CompactionHorizon: time.Second,
	}
}
