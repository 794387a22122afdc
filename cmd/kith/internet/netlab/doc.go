// Package netlab is the emulated internet for kith's NAT tests: a set of
// Linux network namespaces that stand for public servers, home routers and
// the laptops behind them, joined by veth pairs to one "public" bridge.
//
// It is a test harness, imported only by tests (cmd/kith/internet), and it
// needs root. A [Lab] owns one namespace holding the bridge, the public
// internet; public hosts ([Lab.PublicHost]) and home routers
// ([Lab.HomeRouter]) each get a namespace with one address on it; laptops
// ([Router.Laptop]) get a namespace with a private address on the router's
// LAN and a default route through it. A router masquerades its LAN behind
// its public address with nftables and drops connections opened from the
// WAN, as a home router does; its NAT is a [Cone] (endpoint-independent
// mapping, so hole punching works) or [Symmetric] (a new random port for
// each destination, so it does not); it may forward ports on request, as
// most home routers do ([RouterConfig.PortMapping]: miniupnpd, for UPnP IGD and
// NAT-PMP). A router can sit behind another ([Router.Router]): a home
// router behind the ISP's carrier-grade NAT, or a double NAT at home.
// Upload and download rates can be
// shaped ([Router.Shape]), and laptops and routers renumbered to test
// reconnection after an address change. A dual-stack lab ([NewDualStack])
// carries IPv6 too: routed to each home's /64 rather than translated, and
// closed by the same stateful firewall (or open: [RouterConfig.OpenIPv6]).
//
// Safety: every link is created inside namespaces of the lab, never in the
// root namespace, so the root namespace has no link or route into the lab
// and nothing in the lab can leave the machine, whatever its addresses.
// The public range is [PublicRange] (11.0.0.0/8: public to libp2p's address
// classification, and reachable here only inside the lab). There is no
// DNS unless a test starts the lab's own server ([Lab.ServeDNS]: the TXT
// records it is given, as DNSLink needs, on the internet's core address):
// lookups in the lab fail at once. The lab's cleanup ends any process
// left in its namespaces and deletes them.
//
// Programs run in a namespace through [Namespace.Command] (a process group
// of its own) and [Start], which stops the group at cleanup. [StartKubo]
// runs a Kubo daemon as a public DHT server, relay and AutoNAT server on a
// public host, for tests that need the wider IPFS network's services.
//
// Methods that build or change the lab fail the test given to [New] on
// error, so they must be called from the test's goroutine.
package netlab
