package node

import "time"

const (
	// meterWindow is how far back a measured rate looks: long enough to
	// smooth the bursts of batched writes, short enough to follow a
	// change of pace.
	meterWindow = 3 * time.Second
	// rateMinSpan is the least time a rate is measured over: before it,
	// the first chunk's burst would read as a wild rate.
	rateMinSpan = 500 * time.Millisecond
	// rateSampleEvery spaces the samples kept, so a stream of tiny files
	// keeps a few dozen samples, not one per file.
	rateSampleEvery = 100 * time.Millisecond
)

// rateMeter measures the byte rate of work that reports bytes done but
// no rate of its own (an add, an import, writing a get out), so that its
// progress events carry one, as a fetch's do, for a rate and a time left.
// It is not safe for concurrent use: progress callbacks come from the
// working goroutine.
type rateMeter struct {
	now     func() time.Time
	samples []rateSample // oldest first, at least rateSampleEvery apart
}

type rateSample struct {
	at    time.Time
	bytes int64
}

// newRateMeter starts measuring now, from zero bytes.
func newRateMeter(now func() time.Time) *rateMeter {
	return &rateMeter{now: now, samples: []rateSample{{at: now()}}}
}

// observe records that bytes are done and returns the rate over the last
// meterWindow in bytes per second, or 0 while there is too little to tell.
func (m *rateMeter) observe(bytes int64) float64 {
	now := m.now()
	last := m.samples[len(m.samples)-1]
	if bytes < last.bytes {
		// The count went back (a new phase): measure afresh.
		m.samples = append(m.samples[:0], rateSample{now, bytes})
		return 0
	}
	if now.Sub(last.at) >= rateSampleEvery {
		m.samples = append(m.samples, rateSample{now, bytes})
	}
	// Keep one sample at or before the window's start.
	for len(m.samples) > 1 && now.Sub(m.samples[1].at) >= meterWindow {
		m.samples = m.samples[1:]
	}
	first := m.samples[0]
	span := now.Sub(first.at)
	if span < rateMinSpan {
		return 0
	}
	return float64(bytes-first.bytes) / span.Seconds()
}
