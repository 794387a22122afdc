package fetch

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics holds the Prometheus collectors of the fetch protocol. One Metrics
// may be shared by a Server and a Fetcher (and by several of each); its
// methods are safe for concurrent use. A nil *Metrics records nothing, so
// callers without a registry pass nil.
type Metrics struct {
	blocksServed  prometheus.Counter
	bytesServed   prometheus.Counter
	blocksFetched prometheus.Counter
	bytesFetched  prometheus.Counter
	duplicates    prometheus.Counter
	// protocolBlocks and protocolBytes split what was fetched by protocol
	// (kith, bitswap).
	protocolBlocks *prometheus.CounterVec
	protocolBytes  *prometheus.CounterVec
	dropped        *prometheus.CounterVec
	fetchDuration  prometheus.Histogram
}

// NewMetrics creates the collectors and registers them with reg (if reg is
// not nil). Registering twice with the same registry panics, as
// prometheus.MustRegister does: create one Metrics per registry.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: "kith", Subsystem: "fetch", Name: name, Help: help})
	}
	m := &Metrics{
		blocksServed:  counter("blocks_served_total", "Blocks sent to peers."),
		bytesServed:   counter("bytes_served_total", "Block bytes sent to peers."),
		blocksFetched: counter("blocks_fetched_total", "Verified blocks received and stored."),
		bytesFetched:  counter("bytes_fetched_total", "Bytes of verified blocks received and stored."),
		duplicates:    counter("duplicate_blocks_total", "Blocks received more than once in a fetch (endgame copies), dropped."),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "kith", Subsystem: "fetch", Name: "peers_dropped_total",
			Help: "Peers dropped from a fetch, by reason.",
		}, []string{"reason"}),
		protocolBlocks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "kith", Subsystem: "fetch", Name: "protocol_blocks_total",
			Help: "Verified blocks received and stored, by the protocol that carried them (kith, bitswap).",
		}, []string{"protocol"}),
		protocolBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "kith", Subsystem: "fetch", Name: "protocol_bytes_total",
			Help: "Bytes of verified blocks received and stored, by the protocol that carried them (kith, bitswap).",
		}, []string{"protocol"}),
		fetchDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "kith", Subsystem: "fetch", Name: "duration_seconds",
			Help:    "Duration of Fetch calls, successful or not.",
			Buckets: prometheus.ExponentialBuckets(0.01, 4, 9), // 10 ms .. ~11 min
		}),
	}
	if reg != nil {
		reg.MustRegister(m.blocksServed, m.bytesServed, m.blocksFetched, m.bytesFetched,
			m.duplicates, m.dropped, m.fetchDuration, m.protocolBlocks, m.protocolBytes)
	}
	return m
}

func (m *Metrics) served(n int) {
	if m == nil {
		return
	}
	m.blocksServed.Inc()
	m.bytesServed.Add(float64(n))
}

func (m *Metrics) fetched(n int) {
	if m == nil {
		return
	}
	m.blocksFetched.Inc()
	m.bytesFetched.Add(float64(n))
}

func (m *Metrics) fetchedOver(p Protocol, n int) {
	if m == nil {
		return
	}
	m.protocolBlocks.WithLabelValues(string(p)).Inc()
	m.protocolBytes.WithLabelValues(string(p)).Add(float64(n))
}

func (m *Metrics) duplicate() {
	if m != nil {
		m.duplicates.Inc()
	}
}

func (m *Metrics) droppedPeer(k dropKind) {
	if m != nil {
		m.dropped.WithLabelValues(string(k)).Inc()
	}
}

func (m *Metrics) fetchDone(d time.Duration) {
	if m != nil {
		m.fetchDuration.Observe(d.Seconds())
	}
}

// dropKind is the low-cardinality reason label of peers_dropped_total; the
// full reason (with the CID or error) goes to Result.Dropped.
type dropKind string

const (
	dropHashMismatch dropKind = "hash_mismatch"
	dropStalled      dropKind = "stalled"
	dropProtocol     dropKind = "protocol_error"
	dropStream       dropKind = "stream_error"
	dropRemoteError  dropKind = "remote_error"
	dropUnreachable  dropKind = "unreachable"
)
