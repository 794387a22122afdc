package reach

import (
	"slices"
	"strconv"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// PunchFilter widens the addresses exchanged for a hole punch across
// transports. A laptop knows its public address only for the transports
// it happened to use with peers on the internet (TCP to one, QUIC to
// another), and a hole punch needs both sides to dial the same transport
// at once: A offering only TCP and B only QUIC never meet. kith (like Kubo)
// listens on the same port number for TCP and QUIC, and a NAT that can be
// punched at all keeps ports, so an address seen for one transport names
// the other too. The guesses cost a few extra dials in a punch and nothing
// otherwise: they are never advertised.
type PunchFilter struct {
	// Listen returns the host's listen addresses (to know which port each
	// transport uses here).
	Listen func() []ma.Multiaddr
}

// FilterLocal adds, to the addresses sent to the other side, the other
// transport on the same public IP and port where this node listens on that
// port with both.
func (f PunchFilter) FilterLocal(_ peer.ID, addrs []ma.Multiaddr) []ma.Multiaddr {
	var listen []ma.Multiaddr
	if f.Listen != nil {
		listen = f.Listen()
	}
	return crossTransport(addrs, func(transport string, port uint16) bool {
		for _, l := range listen {
			if _, tr, ok := thinWaist(l); ok && tr == transport && listenPort(l) == port {
				return true
			}
		}
		return false
	})
}

// FilterRemote adds the other transport on the same IP and port to the
// addresses received: the remote side may have learnt only one.
func (f PunchFilter) FilterRemote(_ peer.ID, addrs []ma.Multiaddr) []ma.Multiaddr {
	return crossTransport(addrs, func(string, uint16) bool { return true })
}

func listenPort(a ma.Multiaddr) uint16 {
	ap, _, _ := thinWaist(a)
	return ap.Port()
}

// crossTransport returns addrs plus, for each public /tcp/P address, the
// /udp/P/quic-v1 one and vice versa, when ok(transport, P) allows it and
// it is not there already.
func crossTransport(addrs []ma.Multiaddr, ok func(transport string, port uint16) bool) []ma.Multiaddr {
	out := slices.Clone(addrs)
	for _, a := range addrs {
		if !manet.IsPublicAddr(a) || len(a) < 2 {
			continue
		}
		ap, tr, isTW := thinWaist(a)
		if !isTW {
			continue
		}
		var other ma.Multiaddr
		switch {
		case tr == "tcp" && len(a) == 2 && ok("udp", ap.Port()):
			other = append(slices.Clone(a[:1]), *udpComponent(ap.Port()), *quicComponent())
		case tr == "udp" && len(a) == 3 && a[2].Code() == ma.P_QUIC_V1 && ok("tcp", ap.Port()):
			other = append(slices.Clone(a[:1]), *tcpComponent(ap.Port()))
		default:
			continue
		}
		if !slices.ContainsFunc(out, other.Equal) {
			out = append(out, other)
		}
	}
	return out
}

func tcpComponent(port uint16) *ma.Component {
	c, _ := ma.NewComponent("tcp", strconv.Itoa(int(port)))
	return c
}

func udpComponent(port uint16) *ma.Component {
	c, _ := ma.NewComponent("udp", strconv.Itoa(int(port)))
	return c
}

func quicComponent() *ma.Component {
	c, _ := ma.NewComponent("quic-v1", "")
	return c
}
