package cli

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func doctorCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "doctor",
		Short: "Say how this node stands on the network, and what to fix",
		Long: `Check this node's connection to the world: whether it is reachable from
the internet and how that was learnt, the kind of NAT in front of it (as
peers observe it), the ports the home router forwards here on request
(UPnP or NAT-PMP) or as set by hand in its settings (peers dial them
directly; one set by hand shows once a peer dialled it back), the
addresses network.announce_addrs names and whether peers dialled them
back, its public IPv6 address if it has one (no NAT there, a firewall at
most) and how hole punches went, relay reservations, the DHT and its
bootstrap peers, and the addresses a friend can use. Each finding that
needs action comes with the next step.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			d, err := c.Doctor(cmd.Context())
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(d)
			}
			w := e.stdout
			fmt.Fprintf(w, "reachability:   %s (%s)\n", d.Reachability, d.ReachabilityHow)
			if d.Reachability != "local" { // no NAT, punches or relays to speak of
				fmt.Fprintf(w, "NAT:            %s (%s)\n", d.NAT, d.NATHow)
				fmt.Fprintf(w, "port mapping:   %s\n", d.PortMapping)
				if d.Announced != "" {
					fmt.Fprintf(w, "announced:      %s\n", d.Announced)
				}
				fmt.Fprintf(w, "IPv6:           %s\n", cmp.Or(d.IPv6, "none (no public IPv6 address on this machine)"))
				fmt.Fprintf(w, "hole punches:   %d tried, %d direct\n", d.HolePunches, d.HolePunchesOK)
				fmt.Fprintf(w, "relays:         %s\n", countOr(len(d.RelayAddrs), "circuit", "none"))
				fmt.Fprintf(w, "group relays:   %s\n", countOr(len(d.GroupRelays), "circuit", "none"))
				fmt.Fprintf(w, "relay service:  %s\n", d.RelayService)
			}
			role := "client"
			if d.DHTServer {
				role = "server"
			}
			fmt.Fprintf(w, "DHT:            %s as a %s, %d WAN + %d LAN peers; bootstrap peers connected: %d of %d\n",
				d.DHTProtocol, role, d.DHTWAN, d.DHTLAN, d.BootstrapConnected, d.Bootstrap)
			if d.Routers != "" {
				fmt.Fprintf(w, "routers:        %s\n", d.Routers)
			}
			fmt.Fprintf(w, "peers:          %d connected\n", d.Peers)
			if d.Log != "" {
				fmt.Fprintf(w, "log:            %s (`kith log` prints it)\n", d.Log)
			}
			if len(d.Share) > 0 {
				fmt.Fprintln(w, "a friend can dial:")
				for _, a := range d.Share {
					fmt.Fprintln(w, "  "+a)
				}
			}
			fmt.Fprintln(w)
			for _, c := range d.Checks {
				mark := map[string]string{"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}[c.Status]
				fmt.Fprintf(w, "%s %s\n", mark, c.Text)
				if c.Fix != "" {
					fmt.Fprintf(w, "     -> %s\n", c.Fix)
				}
			}
			return nil
		},
	}
}

func countOr(n int, noun, none string) string {
	if n == 0 {
		return none
	}
	s := fmt.Sprintf("%d %s", n, noun)
	if n > 1 {
		s += "s"
	}
	return strings.TrimSpace(s)
}
