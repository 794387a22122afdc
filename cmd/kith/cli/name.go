package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/kith-p2p/kith/web/api"
	"github.com/kith-p2p/kith/web/client"
)

func nameCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "name",
		Short: "Publish content under this node's IPNS name, or look a name up",
		Long: `An IPNS name is a stable address for content that changes, as in IPFS:
this node's name (its key's, /ipns/k51...) points to a CID you choose, in
a signed record kept in the DHT; publish a new CID and the same name
leads to it. Kubo reads it (ipfs get /ipns/k51...), and so does kith
(kith get /ipns/k51..., and cat, ls, pin add, export). For more names
than one (a site, a photo album), make a key for each ('kith name keys
new site') and publish with --key site.`,
	}
	var opts api.NameOptions
	publish := &cobra.Command{
		Use:   "publish CID",
		Short: "Point this node's IPNS name to CID (pinned here first)",
		Long: `Point this node's IPNS name to CID (or a ticket, a path in one, another
name, or the name of a pin of yours): it is pinned here first (fetched if
need be, as kith pin add does), so that the name never leads to content
this node may let go, then the record is signed with this node's key and
put into the DHT. With --key, the name of another of this node's keys
('kith name keys'). Private content (kith pin add --private) is refused:
no one could find it.

A record is valid for --lifetime (48 hours) and cached by those who read
it for --ttl (5 minutes: how long a new CID may take to reach them). The
daemon publishes it again every 4 hours while it runs, so the name stays
valid as long as kith daemon runs at least every two days; publishing a
new CID gives the record the next sequence number, and peers keep the
newest (the CID it pointed to before stays pinned: kith pin rm lets it
go).`,
		Example: "  kith name publish bafy...\n  kith name publish site-v2 --ttl 1m   # a pin's name",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pin, c, stop, err := e.pinRef(cmd.Context(), args[0], "name publish", api.PinOptions{})
			defer stop()
			if err != nil {
				return err
			}
			rec, err := c.PublishName(cmd.Context(), pin.Cid, opts)
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(rec)
			}
			printRecord(e, rec)
			fmt.Fprintf(e.stdout, "anyone gets it with: kith get /ipns/%s (or ipfs get /ipns/%s)\n", rec.Name, rec.Name)
			if e.started {
				fmt.Fprintln(e.stderr, "note: the daemon started for this publish stops now; others fetch the content, and the name is published again, only while 'kith daemon' runs here")
			} else {
				fmt.Fprintf(e.stdout, "in a browser here: %s\n", c.NameURL(rec.Name))
			}
			return nil
		},
	}
	publish.Flags().StringVar(&opts.Key, "key", api.SelfKey, "the key whose name to publish ('kith name keys ls')")
	publish.Flags().DurationVar(&opts.Lifetime, "lifetime", 48*time.Hour, "how long the record stays valid")
	publish.Flags().DurationVar(&opts.TTL, "ttl", 5*time.Minute, "how long readers may cache the record")
	var key string
	resolve := &cobra.Command{
		Use:   "resolve [NAME]",
		Short: "Say what an IPNS name or a DNSLink domain points to now",
		Long: `Say what NAME points to now: an IPNS name (/ipns/k51..., or a peer ID)
is looked up in the DHT, a domain (docs.example.org) by its DNSLink
record, for up to a minute. Without NAME, this node's own record (or,
with --key, that of one of its keys): what it points to, its sequence
number and until when it is valid.`,
		Example: "  kith name resolve /ipns/k51...\n  kith name resolve docs.example.org\n  kith name resolve",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// Its own record is in the repo: no network needed.
			start := e.daemonFor
			if len(args) == 0 {
				start = e.daemonForRepo
			}
			stop, err := start(cmd.Context(), "name resolve")
			if err != nil {
				return err
			}
			defer stop()
			c, err := e.client()
			if err != nil {
				return err
			}
			if len(args) == 0 {
				rec, err := c.OwnName(cmd.Context(), key)
				if err != nil {
					return err
				}
				if e.json {
					return e.printJSON(rec)
				}
				printRecord(e, rec)
				return nil
			}
			if !e.json {
				fmt.Fprintf(e.stderr, "looking up %s (up to a minute)...\n", args[0])
			}
			p, err := c.ResolveName(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(api.NamePath{Path: p})
			}
			fmt.Fprintln(e.stdout, p)
			return nil
		},
	}
	resolve.Flags().StringVar(&key, "key", api.SelfKey, "without NAME: the key whose record to show")
	cmd.AddCommand(publish, resolve, nameKeysCmd(e))
	return cmd
}

// printRecord prints this node's record: its name, what it points to,
// and until when.
func printRecord(e *env, rec api.NameRecord) {
	fmt.Fprintf(e.stdout, "/ipns/%s -> %s\n", rec.Name, rec.Value)
	if rec.Key != api.SelfKey {
		fmt.Fprintf(e.stdout, "key %s, ", printable(rec.Key))
	}
	fmt.Fprintf(e.stdout, "sequence %d, valid until %s (published again every 4 hours while the daemon runs)\n",
		rec.Sequence, rec.Expires.Local().Format("2006-01-02 15:04 MST"))
}

// repoClient is the client of the repo's daemon for a command (what) that
// only reads or changes the repo: with none running, one started for it,
// off the network (daemonForRepo), which stop ends.
func (e *env) repoClient(ctx context.Context, what string) (*client.Client, func(), error) {
	stop, err := e.daemonForRepo(ctx, what)
	if err != nil {
		return nil, func() {}, err
	}
	c, err := e.client()
	return c, stop, err
}
