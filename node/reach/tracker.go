package reach

import (
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"
	"github.com/libp2p/go-libp2p/p2p/protocol/holepunch"
	ma "github.com/multiformats/go-multiaddr"
)

// maxObservations bounds the reports kept (the newest win).
const maxObservations = 64

// Status is what the Tracker knows now.
type Status struct {
	// Reachability is the decision the rest of the host follows.
	Reachability network.Reachability
	// Forced is true when the config set the reachability.
	Forced bool
	// Since is when Reachability last changed.
	Since time.Time
	// Reachable, Unreachable and Unknown are AutoNAT v2's verdicts on this
	// node's public addresses.
	Reachable, Unreachable, Unknown []ma.Multiaddr
	// NAT is the router type inferred from observed addresses (IPv4's
	// on a dual-stack node).
	NAT NATType
	// IPv6 is this node's public IPv6 address (PublicIPv6), the zero Addr
	// when it has none.
	IPv6 netip.Addr
	// Observers is how many distinct public observers reported an address
	// recently, and Observed the distinct addresses they saw.
	Observers int
	Observed  []string
	// HolePunches counts finished hole punches with this node as either
	// side; HolePunchOK how many of them ended in a direct connection.
	HolePunches, HolePunchOK int
	// LastHolePunchError is the error of the last failed one.
	LastHolePunchError string
	// DirectDials counts peers that were dialled directly instead of hole
	// punched (their address turned out reachable).
	DirectDials int
	// RelayAddrs are the relay circuit addresses autorelay holds
	// reservations for.
	RelayAddrs []ma.Multiaddr
}

// Options configure a Tracker.
type Options struct {
	// Forced, when not ReachabilityUnknown, is the reachability set in the
	// config; the Tracker then reports it and emits nothing (libp2p's
	// static AutoNAT does).
	Forced network.Reachability
	// OnChange, if set, is called (from the Tracker's goroutine) after the
	// reachability changed.
	OnChange func(network.Reachability)
}

// Tracker follows AutoNAT v2, identify and hole punching on a host. Create
// it before the host (the hole-punch service takes its tracer), then Start
// it on the host.
type Tracker struct {
	opts Options

	mu     sync.Mutex
	st     Status
	obs    []Observation
	now    func() time.Time
	h      host.Host // set by Start
	sub    event.Subscription
	emit   event.Emitter
	done   chan struct{}
	closed bool
}

// NewTracker returns a Tracker that is not yet watching a host.
func NewTracker(opts Options) *Tracker {
	t := &Tracker{opts: opts, now: time.Now, done: make(chan struct{})}
	t.st.Since = t.now()
	if opts.Forced != network.ReachabilityUnknown {
		t.st.Reachability, t.st.Forced = opts.Forced, true
	}
	return t
}

// HolePunchTracer is the hook to give libp2p's hole-punch service
// (holepunch.WithTracer).
func (t *Tracker) HolePunchTracer() holepunch.EventTracer { return tracer{t} }

type tracer struct{ t *Tracker }

func (tr tracer) Trace(evt *holepunch.Event) {
	tr.t.mu.Lock()
	defer tr.t.mu.Unlock()
	switch e := evt.Evt.(type) {
	case *holepunch.EndHolePunchEvt:
		tr.t.st.HolePunches++
		if e.Success {
			tr.t.st.HolePunchOK++
		} else {
			tr.t.st.LastHolePunchError = e.Error
		}
	case *holepunch.ProtocolErrorEvt:
		// The punch could not even be coordinated (the other side does
		// not answer the protocol, or the relayed stream broke).
		tr.t.st.HolePunches++
		tr.t.st.LastHolePunchError = "coordination failed: " + e.Error
	case *holepunch.DirectDialEvt:
		if e.Success {
			tr.t.st.DirectDials++
		}
	}
}

// Start subscribes to the host's events. Unless the reachability is forced,
// it also becomes a source of EvtLocalReachabilityChanged.
func (t *Tracker) Start(h host.Host) error {
	sub, err := h.EventBus().Subscribe([]any{
		new(event.EvtHostReachableAddrsChanged),
		new(event.EvtPeerIdentificationCompleted),
		new(event.EvtAutoRelayAddrsUpdated),
	}, eventbus.Name("kith reachability"))
	if err != nil {
		return err
	}
	t.sub = sub
	t.mu.Lock()
	t.h = h
	t.mu.Unlock()
	if !t.st.Forced {
		if t.emit, err = h.EventBus().Emitter(new(event.EvtLocalReachabilityChanged), eventbus.Stateful); err != nil {
			sub.Close()
			return err
		}
	}
	go t.loop()
	return nil
}

func (t *Tracker) loop() {
	defer close(t.done)
	for e := range t.sub.Out() {
		switch e := e.(type) {
		case event.EvtHostReachableAddrsChanged:
			t.addrsChanged(e)
		case event.EvtPeerIdentificationCompleted:
			t.observed(e)
		case event.EvtAutoRelayAddrsUpdated:
			t.mu.Lock()
			t.st.RelayAddrs = slices.Clone(e.RelayAddrs)
			t.mu.Unlock()
		}
	}
}

func (t *Tracker) addrsChanged(e event.EvtHostReachableAddrsChanged) {
	t.mu.Lock()
	t.st.Reachable, t.st.Unreachable, t.st.Unknown = slices.Clone(e.Reachable), slices.Clone(e.Unreachable), slices.Clone(e.Unknown)
	if t.st.Forced {
		t.mu.Unlock()
		return
	}
	r := Decide(e.Reachable, e.Unreachable, e.Unknown)
	changed := r != t.st.Reachability
	if changed {
		t.st.Reachability, t.st.Since = r, t.now()
	}
	t.mu.Unlock()
	if changed {
		_ = t.emit.Emit(event.EvtLocalReachabilityChanged{Reachability: r})
		if t.opts.OnChange != nil {
			t.opts.OnChange(r)
		}
	}
}

func (t *Tracker) observed(e event.EvtPeerIdentificationCompleted) {
	if e.Conn == nil || e.ObservedAddr == nil {
		return
	}
	if _, err := e.Conn.RemoteMultiaddr().ValueForProtocol(ma.P_CIRCUIT); err == nil {
		return // a relayed connection: the observer saw the relay, not us
	}
	observed, tr, ok := thinWaist(e.ObservedAddr)
	if !ok {
		return
	}
	local, tr2, ok := thinWaist(e.Conn.LocalMultiaddr())
	if !ok || tr != tr2 {
		return
	}
	remote, _, ok := thinWaist(e.Conn.RemoteMultiaddr())
	if !ok {
		return
	}
	t.record(Observation{Observer: remote.Addr(), Local: local, Transport: tr, Observed: observed, At: t.now()})
}

// record keeps o, replacing an older report from the same observer on the
// same local socket.
func (t *Tracker) record(o Observation) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.obs = slices.DeleteFunc(t.obs, func(x Observation) bool {
		return (x.Observer == o.Observer && x.Local == o.Local && x.Transport == o.Transport) ||
			t.now().Sub(x.At) > observationTTL
	})
	t.obs = append(t.obs, o)
	if len(t.obs) > maxObservations {
		t.obs = t.obs[len(t.obs)-maxObservations:]
	}
}

// interfaceIPs are the addresses of the interfaces h listens on (none
// before Start). The host is asked without the Tracker's lock held.
func (t *Tracker) interfaceIPs() []netip.Addr {
	t.mu.Lock()
	h := t.h
	t.mu.Unlock()
	if h == nil {
		return nil
	}
	addrs, _ := h.Network().InterfaceListenAddresses()
	var out []netip.Addr
	for _, a := range addrs {
		if ap, _, ok := thinWaist(a); ok {
			out = append(out, ap.Addr())
		}
	}
	return out
}

// Forget drops every observation: after the node's own addresses change,
// they describe a network it has left.
func (t *Tracker) Forget() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.obs = nil
}

// Status returns a copy of what the Tracker knows.
func (t *Tracker) Status() Status {
	own := t.interfaceIPs()
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.st
	since := t.now().Add(-observationTTL)
	st.NAT = InferNAT(t.obs, since)
	st.IPv6 = PublicIPv6(t.obs, since, own)
	observers := map[netip.Addr]bool{}
	seen := map[string]bool{}
	for _, o := range t.obs {
		if o.At.Before(since) || !isPublicIP(o.Observer) {
			continue
		}
		observers[o.Observer] = true
		s := o.Transport + " " + o.Observed.String()
		if !seen[s] {
			seen[s] = true
			st.Observed = append(st.Observed, s)
		}
	}
	st.Observers = len(observers)
	st.Reachable = slices.Clone(st.Reachable)
	st.Unreachable = slices.Clone(st.Unreachable)
	st.Unknown = slices.Clone(st.Unknown)
	st.RelayAddrs = slices.Clone(st.RelayAddrs)
	return st
}

// PublicIPv4 returns the public IPv4 address peers see this node at
// (PublicIPv4, on the recent reports), or the zero Addr.
func (t *Tracker) PublicIPv4() netip.Addr {
	own := t.interfaceIPs()
	t.mu.Lock()
	defer t.mu.Unlock()
	return PublicIPv4(t.obs, t.now().Add(-observationTTL), own)
}

// Reachability returns the current decision (cheaper than Status, which
// also infers the NAT type).
func (t *Tracker) Reachability() network.Reachability {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.st.Reachability
}

// RelayAddrs returns the relay circuits autorelay holds reservations for
// (cheaper than Status).
func (t *Tracker) RelayAddrs() []ma.Multiaddr {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.st.RelayAddrs)
}

// IsReachable reports whether a is an address AutoNAT v2 confirmed.
func (t *Tracker) IsReachable(a ma.Multiaddr) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.ContainsFunc(t.st.Reachable, a.Equal)
}

// IsUnreachable reports whether a is an address AutoNAT v2 could not dial
// back.
func (t *Tracker) IsUnreachable(a ma.Multiaddr) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.ContainsFunc(t.st.Unreachable, a.Equal)
}

// Close stops watching the host.
func (t *Tracker) Close() {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	t.closed = true
	t.mu.Unlock()
	if t.sub == nil {
		return
	}
	t.sub.Close()
	<-t.done
	if t.emit != nil {
		t.emit.Close()
	}
}
