package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func connectCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "connect MULTIADDR|PEERID",
		Short: "Connect to a peer by address, or by peer ID",
		Long: `Connect to a peer by its address (a multiaddr ending in /p2p/PEERID),
or by its peer ID alone: its addresses are then looked up in the DHT.`,
		Example: "  kith connect /ip4/192.0.2.7/tcp/4101/p2p/12D3KooW...\n  kith connect 12D3KooW...",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			p, err := c.Connect(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(p)
			}
			fmt.Fprintf(e.stdout, "connected to %s\n", p.ID)
			return nil
		},
	}
}

func peersCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "peers",
		Short: "List connections to peers: address, latency, bytes in and out",
		Long: `List every connection to a peer, one row each: a peer reached both
directly (hole punched) and through a relay has two rows. VIA says
direct/tcp or direct/quic, "relayed" for an unlimited relay (a group
member's) and "relayed (limited)" for a stranger's relay, which only starts
hole punching and carries no transfer. NAME is what the peer goes by in a
group you share with it. IN and OUT count the bytes kith's protocols
(fetch, groups, DHT) moved on that connection.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			peers, err := c.Peers(cmd.Context())
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(peers)
			}
			if len(peers) == 0 {
				fmt.Fprintln(e.stdout, "no peers connected")
				return nil
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PEER\tNAME\tADDRESS\tVIA\tLATENCY\tIN\tOUT")
			for _, p := range peers {
				via := "direct/" + p.Transport
				switch {
				case p.Relayed && p.Limited:
					via = "relayed (limited)"
				case p.Relayed:
					via = "relayed"
				}
				name := "-"
				if p.Name != "" {
					name = printable(p.Name)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.1f ms\t%s\t%s\n", p.ID, name, p.Addr, via, p.LatencyMs, humanBytes(p.BytesIn), humanBytes(p.BytesOut))
			}
			return tw.Flush()
		},
	}
}

func dhtCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dht",
		Short: "Ask the DHT directly (findprovs, findpeer), for diagnosis",
	}
	var max int
	findprovs := &cobra.Command{
		Use:   "findprovs CID",
		Short: "List the providers of CID that the DHT and delegated routers name",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, c, err := e.cidClient(args[0])
			if err != nil {
				return err
			}
			provs, err := c.FindProviders(cmd.Context(), id, max)
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(provs)
			}
			if len(provs) == 0 {
				if _, err := c.Stat(cmd.Context(), id); err == nil {
					return fmt.Errorf("no other peer announces %s (this node has it, and does not list itself)", id)
				}
				return fmt.Errorf("no providers found for %s", id)
			}
			for _, p := range provs {
				fmt.Fprintf(e.stdout, "%s %v\n", p.ID, p.Addrs)
			}
			return nil
		},
	}
	findprovs.Flags().IntVarP(&max, "num", "n", 20, "stop after this many providers")
	findpeer := &cobra.Command{
		Use:   "findpeer PEER-ID",
		Short: "Show the addresses the DHT knows for a peer",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			p, err := c.FindPeer(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(p)
			}
			for _, a := range p.Addrs {
				fmt.Fprintln(e.stdout, a)
			}
			return nil
		},
	}
	cmd.AddCommand(findprovs, findpeer)
	return cmd
}
