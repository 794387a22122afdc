package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kith-p2p/kith/web/api"
)

func getCmd(e *env) *cobra.Command {
	var out, group string
	var follow, sync bool
	var keep int
	var exclude []string
	cmd := &cobra.Command{
		Use:   "get CID|TICKET|CODE|NAME",
		Short: "Fetch a file or folder (from peers if needed) and write it out",
		Long: `Write the file or folder CID to a path: -o PATH, or, when -o names a
folder that exists, into it. The name is the one a ticket carries (what
the sharer called it), else the CID: without -o, ./NAME or ./CID. The name
of one of your pins ('kith pin ls' lists them) goes in place of a CID too.
kith never overwrites: the path written must not exist yet (a file or a
folder there that holds the same, as a get run again left it, is left as
it is: a folder is read whole to tell; so is the folder -o names, which a
get run again with the same -o finds holding it).

Whatever the repo lacks is fetched from every peer that has it at once
(connected peers first, then providers found through the DHT and the
delegated routers, cid.contact by default), each block checked against
its CID. IPFS nodes (Kubo and others) are asked over Bitswap, HTTP
providers (trustless gateways) over HTTPS, kith peers over kith's own
protocol. If the peers it fetches
from go away in the middle, it waits for one that has the rest (up to 10
minutes since the last block came). Interrupted? Run the same command
again: only what is missing is fetched. Names inside the content that
would escape the output folder are refused. Where the disk cannot hold
an entry (two names that differ only in case, on macOS's, Windows' or a
memory stick's file system; a name with a colon on FAT, exFAT or
Windows; a file over 4 GiB on FAT32; a symbolic link on FAT), the rest
is written, what was left out is listed with why, and get exits with an
error.

Given a ticket (what kith add prints: kith1...), kith dials the sharer
directly first, through its relay if it is behind a NAT, with no DHT
lookup; the DHT is still asked if the sharer cannot be reached. Given
the short code kith send prints (7961-orbit-canyon-velvet; capitals,
spaces, a word's first four letters are the same code), kith finds the
sender among connected peers, then through the DHT, proves it knows the
code (the code itself is never sent) and gets the ticket it gives.

An IPNS name or a domain with a DNSLink record goes where a CID goes, as
in Kubo: /ipns/k51... (or 12D3KooW..., ipns://...) is looked up in the
DHT (the newest signed record), /ipns/docs.example.org in DNS (the TXT
record _dnslink.docs.example.org), up to a minute; what it points to now
is got, saved under the name. So do cat, ls, pin add and export. A
gateway's link works as well (https://ipfs.io/ipfs/CID/a.txt,
https://CID.ipfs.dweb.link/a.txt, and their /ipns/ forms): the CID or
name and the path are read from it, and that gateway is never asked.

With no daemon running, get starts one for itself (the repo's, made on
first use as kith daemon makes it; while it runs it also does what the
daemon does for your groups and folders) and stops it when the get ends,
also when it is interrupted or killed; the next get resumes. 'kith
daemon' keeps one running, which also shares back what you got.

--exclude leaves out of a folder what matches (a name at any depth, or a
path from its top, as kith add's): it is not fetched, and not written.

With --group, the argument is the name the group shares something as
('kith status' lists them), and a path inside it: what a new device needs
to bring back a folder that another device shared, or a folder or file
in it (with the sharer's modes and times, which a share sends beside it,
also when the same content is got by its CID). Of a name shared in
several versions (a folder followed with --keep, or shared again), the
newest is got, and a note names the others. With --follow, the folder
then follows the name: each newer version the group shares under it is
written in (only what changed; a file moved or renamed is moved here,
not fetched again), with the sharer's modes and times; what
you change in the folder is kept, never overwritten ('kith mirror ls'
lists such folders); what --exclude names is left out of each version
too (selective sync: 'kith mirror add NAME PATH --exclude ...' changes
it later). With --sync, the folder syncs both ways, as a Syncthing
folder does: it follows the name as --follow does, and what you change
there is shared in turn as the newest version (see kith share --sync);
--keep N has the group keep the N versions before the newest too (as
many as any device that syncs the folder asked for).`,
		Example: "  kith get kith1ab...                  # ./holiday, as the sharer named it\n" +
			"  kith get 7961-orbit-canyon-velvet    # the code kith send printed\n" +
			"  kith get /ipns/k51qzi5uqu5d...       # what an IPNS name points to\n" +
			"  kith get kith1ab... -o ~/Downloads   # ~/Downloads/holiday\n" +
			"  kith get bafy... -o holiday\n" +
			"  kith get Documents --group family -o ~/Documents  # what family keeps\n" +
			"  kith get Documents --group family --follow  # and each newer version\n" +
			"  kith get Photos --group family --follow --exclude '*.mov'  # not the videos\n" +
			"  kith get Notes --group family -o ~/Notes --sync  # changes go both ways",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if sync && follow {
				return errors.New("--sync follows the name too: give --sync alone")
			}
			if sync && len(exclude) > 0 {
				return errSyncExclude
			}
			if sync && group == "" {
				return errors.New("--sync syncs a folder a group shares under a name: give the name and --group")
			}
			if cmd.Flags().Changed("keep") && !sync {
				return errors.New("--keep is for --sync: the versions before the newest the group keeps too")
			}
			if keep < 0 || keep > 100 {
				return fmt.Errorf("--keep %d: give a number of earlier versions between 0 and 100", keep)
			}
			since := time.Now() // for --sync: what changes after is shared
			var syncRefused error
			follow = follow || sync
			if follow && group == "" {
				return errors.New("--follow follows what a group shares under a name: give the name and --group")
			}
			if follow && strings.Contains(strings.Trim(args[0], "/"), "/") {
				return fmt.Errorf("--follow follows a whole share: give its name (%s), not a path in it", strings.SplitN(strings.Trim(args[0], "/"), "/", 2)[0])
			}
			if !follow {
				// A friend's first get needs no daemon started first: one
				// is started for it when none runs (not to follow: that
				// needs one that keeps running).
				stop, err := e.daemonForRef(cmd.Context(), args[0], group, "get")
				if err != nil {
					return err
				}
				defer stop()
			}
			id, name, c, err := e.refClient(cmd.Context(), args[0], group)
			if err != nil {
				return err
			}
			if follow {
				// Only a folder is followed: a file is not got first to be
				// refused after.
				if st, err := c.StatFromPeers(cmd.Context(), id); err == nil && st.Type != "dir" {
					return fmt.Errorf("%s is a file, not a folder: only a folder is followed (get it without --follow)", printable(args[0]))
				}
			}
			into := false // -o names a folder that exists: written into it
			if out == "" {
				out = name
			} else if st, err := os.Stat(out); err == nil && st.IsDir() {
				into = true
			}
			abs, err := filepath.Abs(out)
			if err != nil {
				return fmt.Errorf("output path %s: %w", out, err)
			}
			p := e.newProgress("getting", true)
			res, err := c.Get(cmd.Context(), id, abs, p.event, exclude...)
			if into && api.KindOf(err) == api.KindConflict {
				// Not what a get of it with the same -o wrote before (that is
				// taken as it is): a folder to write it into.
				abs = filepath.Join(abs, name)
				res, err = c.Get(cmd.Context(), id, abs, p.event, exclude...)
			}
			p.done()
			if err != nil && cmd.Context().Err() != nil {
				return p.stopped("get")
			}
			if err != nil {
				return err
			}
			var m *api.GroupMirror
			if sync && len(res.NotWritten) > 0 {
				// Its next version, made from the folder, would lack them:
				// removed on every device.
				syncRefused = fmt.Errorf("it does not sync with %s: a folder that syncs must hold every entry, and this file system cannot hold %d of them (its next version would remove them on every device)", printable(group), len(res.NotWritten))
			} else if sync {
				gm, err := c.GroupSync(cmd.Context(), group, strings.Trim(args[0], "/"), res.Path, res.Cid, 0, keep, since)
				if err != nil {
					return fmt.Errorf("saved %s to %s, but it does not sync with %s: %w", res.Cid, res.Path, printable(group), err)
				}
				m = &gm
			} else if follow {
				gm, err := c.GroupMirror(cmd.Context(), group, strings.Trim(args[0], "/"), res.Path, res.Cid, exclude...)
				if err != nil {
					return fmt.Errorf("saved %s to %s, but it does not follow %s: %w", res.Cid, res.Path, printable(group), err)
				}
				m = &gm
			}
			if e.json {
				if err := e.printJSON(struct {
					api.GetResult
					Mirror *api.GroupMirror `json:"mirror,omitempty"`
				}{res, m}); err != nil {
					return err
				}
				return notWrittenErr(res, syncRefused)
			}
			if res.Existed {
				fmt.Fprintf(e.stdout, "%s holds %s already (%s, the same bytes): nothing to write\n", res.Path, res.Cid, humanBytes(int64(res.Size)))
			} else {
				fmt.Fprintf(e.stdout, "saved %s to %s (%s)\n", res.Cid, res.Path, humanBytes(int64(res.Size)))
			}
			if f := res.Fetched; f.Blocks > 0 {
				rate := float64(f.Bytes) / max(f.Seconds, 1e-3)
				capped := ""
				if f.DownloadLimit > 0 {
					capped = fmt.Sprintf(", capped at %s/s by fetch.download_limit", humanBytes(f.DownloadLimit))
				}
				fmt.Fprintf(e.stdout, "fetched %s in %d block%s from %d peer%s in %.1fs (%s/s%s)%s\n",
					humanBytes(f.Bytes), f.Blocks, plural(f.Blocks), f.Peers, plural(f.Peers), f.Seconds, humanBytes(int64(rate)), capped, bitswapShare(f))
			}
			if res.Meta > 0 {
				fmt.Fprintf(e.stdout, "kept the sharer's modes and times (%d changed)\n", res.Meta)
			}
			notWritten(e.stdout, res)
			if m != nil && m.Sync {
				fmt.Fprintln(e.stdout, syncingText(*m))
			} else if m != nil {
				fmt.Fprintf(e.stdout, "following: each newer version %s shares as %s is written into %s%s; what you change there is kept, never overwritten ('kith mirror rm %s' stops)\n",
					printable(m.Group), printable(m.Name), printable(m.Path), leavingOut(m.Exclude), printable(m.Path))
			} else if len(exclude) > 0 {
				fmt.Fprintf(e.stdout, "left out: %s\n", patternList(exclude))
			}
			return notWrittenErr(res, syncRefused)
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "where to write, or a folder to write into (default ./NAME from a ticket, else ./CID)")
	groupFlag(cmd, &group)
	cmd.Flags().BoolVar(&follow, "follow", false, "then keep the folder as the newest version the group shares under the name (with --group)")
	cmd.Flags().BoolVar(&sync, "sync", false, "then sync the folder both ways: follow the name, and share what changes here (with --group)")
	cmd.Flags().IntVar(&keep, "keep", 0, "with --sync: the group keeps the N versions before the newest too (as many as any device syncing it asked for)")
	excludeFlag(cmd, &exclude)
	return cmd
}

// leavingOut says what a followed folder leaves out, if anything.
func leavingOut(exclude []string) string {
	if len(exclude) == 0 {
		return ""
	}
	return ", leaving out " + patternList(exclude)
}

// patternList says exclude patterns as the user typed them ("nothing"
// for none).
func patternList(exclude []string) string {
	if len(exclude) == 0 {
		return "nothing"
	}
	return printable(strings.Join(exclude, ", "))
}

// bitswapShare says what IPFS nodes carried over Bitswap, and HTTP
// providers over HTTPS, if anything.
func bitswapShare(f api.FetchStats) string {
	var out string
	if b := f.Protocols["bitswap"]; b.Blocks > 0 {
		out += fmt.Sprintf("; %s of it over Bitswap from %d IPFS node%s", humanBytes(b.Bytes), b.Peers, plural(b.Peers))
	}
	if b := f.Protocols["http"]; b.Blocks > 0 {
		out += fmt.Sprintf("; %s of it over HTTPS from %d HTTP provider%s", humanBytes(b.Bytes), b.Peers, plural(b.Peers))
	}
	return out
}

// errSyncExclude refuses --exclude on a folder that syncs both ways.
var errSyncExclude = errors.New("a folder that syncs both ways leaves nothing out with --exclude (what it lacked would be deleted for everyone): list what stays on each device in a .kithignore file at the top of the folder")

// syncingText says that the folder m syncs both ways with its group's
// name, and how many versions before the newest the group keeps.
func syncingText(m api.GroupMirror) string {
	kept := keepsText(m.Group, m.Keep)
	if kept != "" {
		kept += fmt.Sprintf(" ('kith get %s --group %s' names them)", printable(m.Name), printable(m.Group))
	}
	return fmt.Sprintf("syncing %s both ways with %s's %s: what changes here is shared, what other devices share is written here; where both changed a file, the later change keeps the name and the other is kept beside it (name.sync-conflict-...)%s ('kith mirror rm %s' stops)",
		printable(m.Path), printable(m.Group), printable(m.Name), kept, printable(m.Path))
}
