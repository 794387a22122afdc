package dht

import (
	"time"

	"github.com/libp2p/go-libp2p-kad-dht/amino"
	"github.com/libp2p/go-libp2p-kad-dht/provider"
)

// How kith's DHT timing was chosen.
//
// Provider records. A DHT server keeps a provider record for 48h
// (amino.DefaultProvideValidity) after it last received it, and remembers
// the provider's addresses for 24h (amino.DefaultProviderAddrTTL). kith
// leaves both at Amino's values: they are what every other node on the
// network assumes.
//
// Reprovide interval. Kubo reprovides every 22h (amino.DefaultReprovideInterval)
// against the 48h record validity: a record survives one missed or late
// reprovide (the sweeping provider may run a region up to MaxReprovideDelay
// late, and a node may be offline for a while). kith uses the same default
// and refuses intervals above half the record validity, because with those a
// single missed reprovide would let records expire.
//
// Max reprovide delay. The sweeping provider may postpone a region's
// reprovide when the region grows; Kubo allows 1h on a 22h interval. kith
// keeps that ratio (interval/22, at most 1h) so short test intervals do not
// get an hour of slack.
//
// Provider start-up. The sweeping provider only announces while "online",
// i.e. after a lookup succeeded; until then it re-checks with a backoff from
// 100ms up to 1 min, and keys provided meanwhile wait in the keystore and are
// announced by its start-up catch-up. A (re)provide that fails is retried
// every 5 min (a constant of the library) or when connectivity returns.
//
// Everything else (routing table refresh every 10 min, 10s refresh query
// timeout, provider record GC every hour, the provider's 2h offline delay and
// 1 min connectivity re-check) is left at kad-dht's defaults: they are tuned
// for churn, not for network size, and suit a small private network too.
const (
	// DefaultReprovideInterval is how often provided keys are re-announced
	// when WithReprovideInterval is not given: Kubo's 22h.
	DefaultReprovideInterval = amino.DefaultReprovideInterval

	// maxReprovideDelayRatio is interval/maxReprovideDelay, from Kubo's
	// 22h interval with 1h maximum delay.
	maxReprovideDelayRatio = 22

	// bootstrapRTWait bounds how long Bootstrap waits for a connected peer to
	// enter the routing table (identify and the protocol check run
	// asynchronously after a connection is up) when the caller's context has
	// no earlier deadline.
	bootstrapRTWait = 10 * time.Second

	// rtPollInterval is how often Bootstrap re-checks the routing table
	// while waiting for it to fill. kad-dht offers no notification for this
	// that a user may hook without displacing the DHT's own callback.
	rtPollInterval = 20 * time.Millisecond

	// rtNudgeInterval is how often Bootstrap, while the routing table stays
	// empty, confirms the protocol of connected peers and asks kad-dht to
	// consider them again (see waitRoutingTable).
	rtNudgeInterval = 2 * time.Second

	// confirmTimeout bounds one round of confirmDHTPeers.
	confirmTimeout = 5 * time.Second
)

// MaxReprovideInterval is the longest accepted reprovide interval: half the
// provider record validity, so that a record outlives one missed reprovide.
func MaxReprovideInterval() time.Duration { return amino.DefaultProvideValidity / 2 }

// maxReprovideDelay returns the sweeping provider's allowed slack for a
// given reprovide interval (see above).
func maxReprovideDelay(interval time.Duration) time.Duration {
	d := min(interval/maxReprovideDelayRatio, provider.DefaultMaxReprovideDelay)
	if d <= 0 {
		// The provider rejects a zero delay; a nanosecond means "on time".
		d = time.Nanosecond
	}
	return d
}
