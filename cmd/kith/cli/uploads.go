package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/kith-p2p/kith/web/api"
)

func uploadsCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "uploads",
		Short: "List what peers are downloading from this node",
		Long: `List the uploads of the last minute, one row per peer and content, the
fastest first. PEER is the peer's ID, NAME the name it goes by in a group
you share (else what its software calls itself: kith/..., kubo/...).
CONTENT is the pin's name here, or its CID; "(blocks, content not known)"
counts blocks a peer asked for without their root (a fetch resumed from
the middle, or a file fetched from several peers at once). VIA is the
protocol: kith's own, or Bitswap (IPFS nodes). RATE is over the last 5 s,
or "finished" once the peer said its get finished (kith peers say so);
an upload idle for a minute leaves the list.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			ups, err := c.Uploads(cmd.Context())
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(ups)
			}
			if len(ups) == 0 {
				fmt.Fprintln(e.stdout, "no peer is downloading from this node")
				return nil
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PEER\tNAME\tCONTENT\tVIA\tSENT\tRATE\tSINCE")
			for _, u := range ups {
				rate := humanBytes(int64(u.Rate)) + "/s"
				if u.Finished {
					rate = "finished"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.Peer, printable(uploadPeerName(u)), printable(uploadContent(u)),
					strings.Join(u.Protocols, "+"), humanBytes(u.Bytes), rate, ago(u.Since))
			}
			return tw.Flush()
		},
	}
}

// uploadPeerName names the peer of an upload as well as it is known.
func uploadPeerName(u api.Upload) string {
	switch {
	case u.PeerName != "":
		return u.PeerName
	case u.Agent != "":
		return u.Agent
	}
	return "-"
}

// uploadContent names the content of an upload.
func uploadContent(u api.Upload) string {
	switch {
	case u.Cid == "":
		return "(blocks, content not known)"
	case u.Name != "":
		return u.Name
	}
	return u.Cid
}
