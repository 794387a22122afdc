package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/web/api"
	"github.com/kith-p2p/kith/web/client"
)

// sendAddressWait bounds how long send waits, with a daemon just started,
// for an address a friend on the internet can dial (a public one, or a
// relay's) before it prints the ticket with what it has.
const sendAddressWait = 30 * time.Second

// sendLook is how often send asks the daemon who downloads what it sends.
const sendLook = time.Second

// sendQuiet is how long a peer's download sends nothing before send says
// it stopped (finished, or paused).
const sendQuiet = 5 * time.Second

func sendCmd(e *env) *cobra.Command {
	var (
		name    string
		wrap    string
		exclude []string
		public  bool
		once    bool
	)
	cmd := &cobra.Command{
		Use:   "send PATH...",
		Short: "Add a file or folder and serve it to a friend until Ctrl-C",
		Long: `Add a file or folder (several, with --wrap NAME, as one folder), print
a short code and its ticket, and serve it until you press Ctrl-C, saying
who downloads it, how much they have had, and when their get finished,
as croc and sendme do: your friend runs kith get CODE (a number and
three words, 7961-orbit-canyon-velvet), or kith get TICKET. The code
works while send runs: your friend's kith finds this one through the DHT
(or among its connected peers, on a LAN say), proves it knows the code
without sending it, and is given the ticket; after 10 wrong proofs it is
closed (the ticket works on). With --once, send ends by itself when a
friend's get finished (a kith get says so; an IPFS node's does not).
With no daemon running, send starts one for itself (on the network)
and stops it when it ends; it waits a few seconds for an address
a friend on the internet can reach (your public one, or a relay's when you
are behind a router) so that the ticket holds it. With a daemon running,
what you sent stays served after send ends, as anything you add.

What is sent is private (not announced in the DHT: only who has the
code or the ticket finds it) unless --public, and it stays pinned here,
as an add leaves it ('kith pin rm CID' frees it). A folder is sent
whole, leaving out what --exclude and its .kithignore name, as add -r
does. A download cut short resumes when your friend runs the same get
again, from this send or from any daemon of yours that serves it.`,
		Example: "  kith send holiday.mp4\n  kith send --once holiday.mp4\n  kith send ./photos --exclude '*.raw'\n  kith send --wrap trip notes.txt map.pdf",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if len(args) > 1 && wrap == "" {
				return fmt.Errorf("%d paths go to a friend as one folder: name it with --wrap NAME", len(args))
			}
			if err := checkAddArgs(args, name, wrap); err != nil {
				return err
			}
			for _, a := range args {
				if a == "-" {
					return errors.New("send serves files and folders: save standard input to a file and send that")
				}
			}
			ctx := cmd.Context()
			stop, err := e.daemonFor(ctx, "send")
			if err != nil {
				return err
			}
			defer stop()
			c, err := e.client()
			if err != nil {
				return err
			}
			opts := api.AddOptions{Name: name, Private: !public, Exclude: exclude, Wrap: wrap}
			p := e.newProgress("adding", true)
			res, err := c.AddPaths(ctx, args, true, opts, p.event)
			p.done()
			if err != nil {
				return err
			}
			if !e.json {
				e.printSkipped(res)
			}
			ticket := e.sendTicket(ctx, c, res)
			// The short code stays open while the send runs (an older
			// daemon has none: the ticket alone then).
			codeCtx, closeCode := context.WithCancel(ctx)
			defer closeCode()
			code, closed, codeErr := c.OpenCode(codeCtx, res.Cid)
			if codeErr != nil && api.KindOf(codeErr) != api.KindNotFound && !e.json {
				fmt.Fprintf(e.stderr, "no short code (%s): give the ticket\n", userMessage(codeErr))
			}
			if e.json {
				res.Ticket = ticket
				if err := e.printJSON(res); err != nil {
					return err
				}
				if codeErr == nil {
					_ = e.printJSON(api.Code{Code: code})
				}
			} else {
				fmt.Fprintf(e.stdout, "sending %s %s (%s)\n", res.Cid, printable(res.Name), humanBytes(int64(res.Size)))
				if codeErr == nil {
					fmt.Fprintf(e.stdout, "on the other computer, run:\n  kith get %s\nor, where that finds nothing, with the whole ticket:\n  kith get %s\n", code, ticket)
				} else {
					fmt.Fprintf(e.stdout, "on the other computer, run:\n  kith get %s\n", ticket)
				}
				if once {
					fmt.Fprintln(e.stdout, "serving it until a friend has it all, or you press Ctrl-C")
				} else {
					fmt.Fprintln(e.stdout, "serving it until you press Ctrl-C")
				}
			}
			if err := e.serveSend(ctx, c, res, once, closed); err != nil {
				return err
			}
			if !e.json {
				if e.started {
					fmt.Fprintln(e.stdout, "stopped serving it")
				} else {
					fmt.Fprintln(e.stdout, "stopped watching: the running daemon serves it still")
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "the name your friend's get saves it as (default: the file or folder's)")
	cmd.Flags().StringVarP(&wrap, "wrap", "w", "", "send the paths together as one folder called `NAME`")
	cmd.Flags().BoolVar(&public, "public", false, "announce it in the DHT too: the CID alone then finds it")
	cmd.Flags().BoolVar(&once, "once", false, "stop once a friend's get of it finished, as croc does")
	excludeFlag(cmd, &exclude)
	return cmd
}

// sendTicket is the ticket of what send adds: with a daemon started for
// the send, once it holds an address a friend on the internet can dial (a
// public one, or a relay's), waited for up to sendAddressWait, else with
// the addresses the daemon has (saying why on stderr).
func (e *env) sendTicket(ctx context.Context, c *client.Client, res api.AddResult) string {
	ticket := res.Ticket
	ready := func() bool {
		if id, err := c.ID(ctx); err != nil || id.Reachability == "local" {
			return true // kept on this machine (--profile local): no more to wait for
		}
		t, err := c.Ticket(ctx, res.Cid)
		if err != nil {
			return true
		}
		if t.Ticket != "" {
			ticket = t.Ticket // with the addresses known now
		}
		return t.Reachable
	}
	if ready() || !e.started {
		return ticket // a daemon that ran before knows what it will know
	}
	if cfg, err := node.ReadConfig(e.repo); err == nil && !cfg.Network.AutoNAT && !cfg.Network.RelayClient {
		return ticket // set to learn of no public address, nor to take a relay's
	}
	fmt.Fprintf(e.stderr, "finding an address a friend on the internet can reach (up to %s)...\n", sendAddressWait)
	deadline := time.NewTimer(sendAddressWait)
	defer deadline.Stop()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ticket
		case <-deadline.C:
			fmt.Fprintln(e.stderr, "none yet (a network with no internet, or a strict firewall): the ticket holds this computer's local addresses, and a friend's get finds it through the DHT once it has one ('kith doctor' says more)")
			return ticket
		case <-tick.C:
			if ready() {
				return ticket
			}
		}
	}
}

// sendPeer is what serveSend said of one peer's download.
type sendPeer struct {
	said     int64     // bytes sent when last said
	saidAt   time.Time // when
	stopped  bool      // said it stopped (or finished)
	finished bool      // said its get finished
}

// serveSend says, until ctx ends, who downloads res and how much each has
// had: when a peer starts, every 10 s while it goes on, and when its get
// finished (a kith peer says so) or it stops asking (done, or paused).
// With once, it returns when a peer's get finished. It fails when the
// daemon serving it stopped. codeClosed tells why the daemon closed the
// send's short code (nil: none open).
func (e *env) serveSend(ctx context.Context, c *client.Client, res api.AddResult, once bool, codeClosed <-chan error) error {
	peers := map[string]*sendPeer{}
	tick := time.NewTicker(sendLook)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-codeClosed:
			if !errors.Is(err, client.ErrNoDaemon) { // else said by the look at the uploads
				fmt.Fprintf(e.stderr, "the code is %s\n", userMessage(err))
			}
			codeClosed = nil // said once; the ticket works on
			continue
		case <-tick.C:
		}
		ups, err := c.Uploads(ctx)
		if errors.Is(err, client.ErrNoDaemon) {
			return fmt.Errorf("the kith daemon serving %s stopped ('kith log' says why): run the same send again to serve it", printable(res.Name))
		}
		if err != nil {
			continue // the daemon busy: asked again
		}
		now := time.Now()
		finished := false
		for _, u := range ups {
			if u.Cid != res.Cid {
				continue
			}
			for _, line := range sendNews(peers, u, res.Size, now) {
				if e.json {
					_ = e.printJSON(u)
					break
				}
				fmt.Fprintln(e.stdout, line)
			}
			finished = finished || peers[u.Peer].finished
		}
		if once && finished {
			return nil
		}
	}
}

// sendNews is what serveSend says of upload u now: a peer that started,
// goes on, finished, or stopped asking.
func sendNews(peers map[string]*sendPeer, u api.Upload, size uint64, now time.Time) []string {
	who := shortID(u.Peer)
	if n := uploadPeerName(u); n != "" && n != "-" {
		who += " (" + printable(n) + ")"
	}
	sent := fmt.Sprintf("%s of %s", humanBytes(u.Bytes), humanBytes(int64(size)))
	p, ok := peers[u.Peer]
	if !ok {
		p = &sendPeer{said: u.Bytes, saidAt: now}
		peers[u.Peer] = p
		if !u.Finished {
			return []string{fmt.Sprintf("%s is downloading it", who)}
		}
	}
	quiet := now.Sub(u.Last) >= sendQuiet
	switch {
	case u.Finished && !p.finished:
		p.finished, p.stopped, p.said, p.saidAt = true, true, u.Bytes, now
		if u.Bytes == 0 { // its blocks counted under no root here (a get resumed), or came from others
			return []string{fmt.Sprintf("%s has it all: its get finished", who)}
		}
		return []string{fmt.Sprintf("%s has it all: its get finished (%s sent from here)", who, humanBytes(u.Bytes))}
	case u.Finished:
		return nil
	case quiet && !p.stopped:
		p.stopped, p.said, p.saidAt = true, u.Bytes, now
		return []string{fmt.Sprintf("%s stopped asking, after %s: done, or paused (its get resumes)", who, sent)}
	case !quiet && p.stopped:
		p.stopped, p.finished, p.said, p.saidAt = false, false, u.Bytes, now
		return []string{fmt.Sprintf("%s is downloading it again (%s so far)", who, sent)}
	case !quiet && u.Bytes != p.said && now.Sub(p.saidAt) >= 10*time.Second:
		p.said, p.saidAt = u.Bytes, now
		return []string{fmt.Sprintf("%s: %s, %s/s", who, sent, humanBytes(int64(u.Rate)))}
	}
	return nil
}
