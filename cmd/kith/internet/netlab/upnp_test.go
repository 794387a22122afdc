//go:build linux

package netlab_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"net/netip"

	"github.com/kith-p2p/kith/cmd/kith/internet/netlab"
	"github.com/libp2p/go-libp2p/p2p/net/nat"
)

// upnpMap: upnp-map PROTO PORT asks the LAN's router (UPnP IGD or NAT-PMP,
// with go-libp2p's client, as a kith daemon does) to forward PORT of its
// public address to PORT here. It prints "mapped ADDR" with the public
// address and port, or fails; it keeps the mapping until stdin closes.
func upnpMap(args []string) error {
	if len(args) != 2 {
		return errors.New("usage: upnp-map tcp|udp PORT")
	}
	port, err := strconv.Atoi(args[1])
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	n, err := nat.DiscoverNAT(ctx)
	if err != nil {
		return fmt.Errorf("discovering the router: %w", err)
	}
	defer n.Close()
	if err := n.AddMapping(ctx, args[0], port); err != nil {
		return fmt.Errorf("asking for a mapping: %w", err)
	}
	for {
		if addr, ok := n.GetMapping(args[0], port); ok {
			fmt.Printf("mapped %s\n", netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port()))
			break
		}
		if ctx.Err() != nil {
			return errors.New("the router made no mapping")
		}
		time.Sleep(100 * time.Millisecond)
	}
	os.Stdin.Read(make([]byte, 1)) // until stdin closes
	return nil
}

// TestUPnP asks a router with a symmetric NAT and UPnP for a TCP and a UDP
// port: a public host then reaches the laptop at the router's public
// address and that port, unasked, where without the mapping the router
// drops it (TestUnsolicitedInboundIsDropped).
func TestUPnP(t *testing.T) {
	lab := netlab.New(t)
	server := lab.PublicHost("server")
	router := lab.HomeRouter("home", netlab.RouterConfig{NAT: netlab.Symmetric, UPnP: true})
	laptop := router.Laptop("laptop")

	startHelper(t, laptop.Namespace, "tcp-observe", "4101").expect("ready", step)
	udp := startHelper(t, laptop.Namespace, "udp", "4101")
	udp.expect("ready", step)
	mapped := map[string]string{}
	for _, proto := range []string{"tcp", "udp"} {
		f := startHelper(t, laptop.Namespace, "upnp-map", proto, "4101").fields("mapped", 30*time.Second)
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
}
