package group

import "time"

// Config holds the timings of a group. The zero value is not useful; start
// from DefaultConfig (laptops on home networks) or TestConfig (milliseconds,
// for tests on loopback and the simulator).
type Config struct {
	// HeartbeatInterval: how often a member of a small group gossips a
	// heartbeat. Tens of seconds: idle traffic matters to laptop users.
	// Default 30 s. Larger groups beat less often (see HeartbeatEvery).
	HeartbeatInterval time.Duration
	// HeartbeatGroupSize: the group size up to which members beat every
	// HeartbeatInterval. Above it the interval grows in step with the
	// group, so that the heartbeats each member receives per second, and
	// so its idle traffic, stay flat. Default 25.
	HeartbeatGroupSize int
	// SuspectAfter: silence after which a member is shown as suspect, in a
	// small group. It changes nothing in placement but holds back releases.
	// Default 3 heartbeat intervals; a member's heartbeats announce its own
	// interval, and others suspect it after 3 of those.
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
		HeartbeatInterval:  30 * time.Second,
		HeartbeatGroupSize: 25,
		SuspectAfter:       90 * time.Second,
		Grace:              30 * time.Minute,
		ReleaseDelay:       15 * time.Minute,
		CompactionHorizon:  DefaultCompactionHorizon,
	}
}

// TestConfig returns timings in milliseconds, for tests.
func TestConfig() Config {
	return Config{
		HeartbeatInterval:  10 * time.Millisecond,
		HeartbeatGroupSize: 25,
		SuspectAfter:       30 * time.Millisecond,
		Grace:              200 * time.Millisecond,
		ReleaseDelay:       100 * time.Millisecond,
		CompactionHorizon:  time.Second,
	}
}

// SuspectBeats is how many heartbeat intervals of silence make a member
// suspect.
const SuspectBeats = 3

// HeartbeatEvery returns how often a member of a group of the given size
// beats: HeartbeatInterval up to HeartbeatGroupSize members, then longer in
// proportion to the group, so that every member hears about
// HeartbeatGroupSize/HeartbeatInterval heartbeats per second whatever the
// group's size. It never exceeds a tenth of the grace period (a silent
// member must miss many beats before its copies move) unless
// HeartbeatInterval itself does.
func (c Config) HeartbeatEvery(members int) time.Duration {
	every := c.HeartbeatInterval
	if c.HeartbeatGroupSize > 0 && members > c.HeartbeatGroupSize {
		every = time.Duration(int64(every) * int64(members) / int64(c.HeartbeatGroupSize))
	}
	if ceiling := c.Grace / 10; every > ceiling {
		every = max(ceiling, c.HeartbeatInterval)
	}
	return every
}

// suspectAfter is how long a member that announced it beats every every
// may stay silent before it is suspect: SuspectBeats of its intervals, never
// less than SuspectAfter nor more than the grace period. A zero every (the
// member announced none) means SuspectAfter.
func (c Config) suspectAfter(every time.Duration) time.Duration {
	return min(max(SuspectBeats*every, c.SuspectAfter), c.Grace)
}
