//go:build linux

package netlab_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"testing"
	"time"

	natpmp "github.com/jackpal/go-nat-pmp"
	"github.com/libp2p/go-libp2p/p2p/net/nat"

	"github.com/kith-p2p/kith/cmd/kith/internet/netlab"
)

// upnpMap: upnp-map [-natpmp GATEWAY] PROTO PORT asks the LAN's router
// to forward PORT of its public address to PORT here: with go-libp2p's
// client (UPnP IGD or NAT-PMP, as a kith daemon does), or with -natpmp
// over NAT-PMP to GATEWAY (go-libp2p's NAT-PMP client cannot find the
// gateway on Linux: see TestPortMapping). It prints "mapped ADDR" with the
// public address and port, or fails; it keeps the mapping until stdin
// closes.
func upnpMap(args []string) error {
	fs := flag.NewFlagSet("upnp-map", flag.ContinueOnError)
	gw := fs.String("natpmp", "", "NAT-PMP to this gateway rather than go-libp2p's client")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return errors.New("usage: upnp-map [-natpmp GATEWAY] tcp|udp PORT")
	}
	proto := fs.Arg(0)
	port, err := strconv.Atoi(fs.Arg(1))
	if err != nil {
		return err
	}
	var mapped netip.AddrPort
	if *gw != "" {
		mapped, err = natpmpMap(*gw, proto, port)
	} else {
		mapped, err = libp2pMap(proto, port)
	}
	if err != nil {
		return err
	}
	fmt.Printf("mapped %s\n", netip.AddrPortFrom(mapped.Addr().Unmap(), mapped.Port()))
	os.Stdin.Read(make([]byte, 1)) // until stdin closes
	return nil
}

// libp2pMap maps with go-libp2p's NAT client.
func libp2pMap(proto string, port int) (netip.AddrPort, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	n, err := nat.DiscoverNAT(ctx)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("discovering the router: %w", err)
	}
	if err := n.AddMapping(ctx, proto, port); err != nil {
		return netip.AddrPort{}, fmt.Errorf("asking for a mapping: %w", err)
	}
	for ctx.Err() == nil {
		if addr, ok := n.GetMapping(proto, port); ok {
			return addr, nil // n stays open: it renews the mapping
		}
		time.Sleep(100 * time.Millisecond)
	}
	return netip.AddrPort{}, errors.New("the router made no mapping")
}

// natpmpMap maps over NAT-PMP (RFC 6886) with gateway.
func natpmpMap(gateway, proto string, port int) (netip.AddrPort, error) {
	gw, err := netip.ParseAddr(gateway)
	if err != nil {
		return netip.AddrPort{}, err
	}
	c := natpmp.NewClientWithTimeout(gw.AsSlice(), 10*time.Second)
	ext, err := c.GetExternalAddress()
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("asking the router's address: %w", err)
	}
	res, err := c.AddPortMapping(proto, port, port, 3600)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("asking for a mapping: %w", err)
	}
	return netip.AddrPortFrom(netip.AddrFrom4(ext.ExternalIPAddress), res.MappedExternalPort), nil
}

// TestPortMapping asks a router with a symmetric NAT that forwards ports on
// request (UPnP and NAT-PMP, or NAT-PMP alone) for a TCP and a UDP port: a
// public host then reaches the laptop at the router's public address and
// that port, unasked, where without the mapping the router drops it
// (TestUnsolicitedInboundIsDropped).
func TestPortMapping(t *testing.T) {
	for _, pm := range []netlab.PortMapping{netlab.UPnPAndNATPMP, netlab.NATPMPOnly} {
		t.Run(pm.String(), func(t *testing.T) {
			lab := netlab.New(t)
			server := lab.PublicHost("server")
			router := lab.HomeRouter("home", netlab.RouterConfig{NAT: netlab.Symmetric, PortMapping: pm})
			laptop := router.Laptop("laptop")

			startHelper(t, laptop.Namespace, "tcp-observe", "4101").expect("ready", step)
			udp := startHelper(t, laptop.Namespace, "udp", "4101")
			udp.expect("ready", step)
			var client []string
			if pm == netlab.NATPMPOnly {
				// go-libp2p (v0.51, v0.52) looks for the NAT-PMP gateway
				// with go-netroute's Route(0.0.0.0), which go-netroute
				// v0.4 refuses on Linux ("destination IP must be
				// specified"): its NAT-PMP never finds a router here.
				client = []string{"-natpmp", router.Gateway().String()}
			}
			mapped := map[string]string{}
			for _, proto := range []string{"tcp", "udp"} {
				args := append(append([]string{"upnp-map"}, client...), proto, "4101")
				f := startHelper(t, laptop.Namespace, args...).fields("mapped", 30*time.Second)
				a, err := netip.ParseAddrPort(f[1])
				if err != nil || a.Addr() != router.PublicAddr() {
					t.Fatalf("%s mapped to %s, want a port of the router's public address %s", proto, f[1], router.PublicAddr())
				}
				mapped[proto] = f[1]
			}
			t.Logf("mapped: %v", mapped)
			f := startHelper(t, server.Namespace, "tcp-dial", "5000", mapped["tcp"]).fields("seen", step)
			if want := server.Addr().String() + ":5000"; f[2] != want {
				t.Errorf("the laptop saw the server's TCP connection come from %s, want %s", f[2], want)
			}
			srv := startHelper(t, server.Namespace, "udp", "5000")
			srv.expect("ready", step)
			srv.send("send " + mapped["udp"] + " hello")
			udp.fields("got "+server.Addr().String()+":5000", step)
		})
	}
}

// TestForwardByHand: a port forwarded in the router's settings (40000
// outside to 4101 inside) reaches the laptop from the internet over TCP
// and UDP, though the router's NAT is symmetric: what the laptop sends out
// from its port leaves from another.
func TestForwardByHand(t *testing.T) {
	lab := netlab.New(t)
	server := lab.PublicHost("server")
	router := lab.HomeRouter("home", netlab.RouterConfig{NAT: netlab.Symmetric})
	laptop := router.Laptop("laptop")
	router.Forward("tcp", 40000, netip.AddrPortFrom(laptop.Addr(), 4101))
	router.Forward("udp", 40000, netip.AddrPortFrom(laptop.Addr(), 4101))

	startHelper(t, laptop.Namespace, "tcp-observe", "4101").expect("ready", step)
	udp := startHelper(t, laptop.Namespace, "udp", "4101")
	udp.expect("ready", step)
	forwarded := netip.AddrPortFrom(router.PublicAddr(), 40000).String()
	f := startHelper(t, server.Namespace, "tcp-dial", "5000", forwarded).fields("seen", step)
	if want := server.Addr().String() + ":5000"; f[2] != want {
		t.Errorf("the laptop saw the server's TCP connection come from %s, want %s", f[2], want)
	}
	srv := startHelper(t, server.Namespace, "udp", "5000")
	srv.expect("ready", step)
	srv.send("send " + forwarded + " hello")
	udp.fields("got "+server.Addr().String()+":5000", step)

	// Sent out from the forwarded port to another peer: another port
	// outside.
	other := startHelper(t, server.Namespace, "udp", "5001")
	other.expect("ready", step)
	udp.send("send " + server.Addr().String() + ":5001 out")
	got := other.fields("got", step)
	if got[1] == forwarded || got[1] == netip.AddrPortFrom(router.PublicAddr(), 4101).String() {
		t.Errorf("the laptop's datagram from port 4101 left from %s: the NAT kept the port, or took the forwarded one", got[1])
	}
}
