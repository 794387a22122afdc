package node

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"syscall"

	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// portsInUse finds the listen addresses whose fixed port another socket
// holds. libp2p binds its ports with SO_REUSEPORT (so that its outgoing
// connections leave from them, which hole punching needs), and so does a
// second kith daemon: both would then bind the same port, and each would
// receive some of the other's connections. A plain bind, without
// SO_REUSEPORT, fails on a port anyone holds, so each fixed port is tried
// that way first (and released at once). Port 0, DNS names and addresses
// that cannot be bound here for other reasons (no IPv6) are for libp2p to
// judge.
func portsInUse(listen []string) []string {
	var busy []string
	for _, s := range listen {
		a, err := ma.NewMultiaddr(s)
		if err != nil || portOf(a) == "0" {
			continue
		}
		if addrInUse(tryBind(a)) {
			busy = append(busy, s)
		}
	}
	return busy
}

// portOf is a's TCP or UDP port ("" for neither).
func portOf(a ma.Multiaddr) string {
	if port, err := a.ValueForProtocol(ma.P_TCP); err == nil {
		return port
	}
	port, _ := a.ValueForProtocol(ma.P_UDP)
	return port
}

// tryBind binds a's IP and TCP or UDP port with a plain bind (without
// SO_REUSEPORT, so that it fails on a port anyone holds) and releases it
// at once; an address with no IP or port is an error.
func tryBind(a ma.Multiaddr) error {
	ip, err := manet.ToIP(a)
	if err != nil {
		return err
	}
	family := "6"
	if ip.To4() != nil {
		family = "4"
	}
	if port, err := a.ValueForProtocol(ma.P_TCP); err == nil {
		ln, err := net.Listen("tcp"+family, net.JoinHostPort(ip.String(), port))
		if err != nil {
			return err
		}
		return ln.Close()
	}
	port, err := a.ValueForProtocol(ma.P_UDP)
	if err != nil {
		return err
	}
	pc, err := net.ListenPacket("udp"+family, net.JoinHostPort(ip.String(), port))
	if err != nil {
		return err
	}
	return pc.Close()
}

// addrInUse reports whether err is a bind to an address in use (libp2p
// sometimes flattens the cause into text; Windows words it otherwise).
func addrInUse(err error) bool {
	if err == nil {
		return false
	}
	msg := strings.ToLower(err.Error())
	return errors.Is(err, syscall.EADDRINUSE) || strings.Contains(msg, "address already in use") ||
		strings.Contains(msg, "only one usage of each socket address")
}

// portInUseError is the one sentence for listen ports in use.
func portInUseError(busy, listen []string) error {
	hint := ""
	if len(loopbackOnly(listen)) < len(listen) {
		hint = ", or run with --profile local"
	}
	return fmt.Errorf("a port of network.listen_addrs (%s) is in use, perhaps by another kith daemon: choose another with `kith config set network.listen_addrs /ip4/0.0.0.0/tcp/PORT,/ip4/0.0.0.0/udp/PORT/quic-v1` (port 0 picks a free one)%s",
		strings.Join(busy, ", "), hint)
}

// freePorts gives each listen address whose fixed port is in use port 0
// (any free one), for a daemon that runs for one command (kith get with
// none running): nobody needs to find it at a known port, and another
// kith daemon, or another program, may hold the configured one.
func freePorts(listen []string) []string {
	busy := portsInUse(listen)
	out := make([]string, 0, len(listen))
	for _, s := range listen {
		if !slices.Contains(busy, s) {
			out = append(out, s)
			continue
		}
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			out = append(out, s)
			continue
		}
		z := make(ma.Multiaddr, 0, len(a))
		for _, c := range a {
			if c.Code() == ma.P_TCP || c.Code() == ma.P_UDP {
				nc, err := ma.NewComponent(c.Protocol().Name, "0")
				if err != nil {
					return listen
				}
				c = *nc
			}
			z = append(z, c)
		}
		out = append(out, z.String())
	}
	return out
}
