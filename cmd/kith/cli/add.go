package cli

import (
	"errors"
	"fmt"
	"slices"

	"github.com/dustin/go-humanize"
	"github.com/ipfs/boxo/files"

	"github.com/spf13/cobra"

	"github.com/kith-p2p/kith/web/api"
	"github.com/kith-p2p/kith/web/client"
)

func addCmd(e *env) *cobra.Command {
	var (
		recursive bool
		name      string
		noPin     bool
		quiet     bool
		private   bool
		exclude   []string
		wrap      string
		dryRun    bool
		onlyHash  bool
		noCopy    bool
		skip      bool
	)
	cmd := &cobra.Command{
		Use:   "add PATH...",
		Short: "Add a file or folder to the repo and pin it",
		Long: `Add a file (or, with -r, a folder) to the repo and pin it, printing its CID.
Given several paths, add adds each in turn: a pin and a ticket each; with
--wrap NAME, they go together in one new folder NAME, with one ticket for
all (a friend's kith get saves ./NAME). A PATH of - reads standard input
(named "stdin" unless --name says).

The DAG follows the IPIP-499 "unixfs-v1-2025" profile (CIDv1, raw leaves,
sha2-256, 1 MiB chunks), so any IPFS implementation using that profile gives
the same CID for the same bytes. When add prints the CID, every block is on
disk.

add also prints a ticket: the CID with its name, its files' modes and
times, and this node's address. A friend runs kith get TICKET, which
connects to you directly (through a relay if you are behind a NAT, then
hole punched), with no DHT lookup, and saves it under that name, with
those times and modes (never writable by others there). Content you add
is also announced in the DHT, as IPFS does, so the CID alone is enough to
find it; --private (or dht.announce false in the config) leaves it out,
so only people with the ticket, your group members and peers already
connected to you can fetch it.
Content pinned private before (added --private, shared in a group) stays
private when added again: 'kith pin add CID --private=false' announces it.

A folder is added with everything in it, hidden files included, except
kith's own repo (its private key, every block), the sockets, named pipes
and devices in it (they hold no content: add names them), and what systems
and office apps leave there (.DS_Store, ._NAME, Thumbs.db, desktop.ini,
~$NAME and .~lock.NAME# lock files, volume folders; --dry-run names
them; a !.DS_Store line in .kithignore keeps one); --exclude
leaves out what matches: a name at any depth (*.tmp, .git), or a path
from the top of the folder (/build, docs/drafts, **/cache: ** stands for
any folders), folders only with a trailing /, as .gitignore's patterns
and Syncthing's do; a .kithignore file at the top of the folder holds
more, one a line (# for comments). A symbolic link inside the folder is
kept as a link (its target as written, which kith get writes back as a
link, as Kubo does); a link given as PATH is followed. --dry-run (-n)
says what an add would hold and what it would leave out, and by which
pattern, adding nothing: try patterns with it. --only-hash prints the CID
the add would give, storing nothing, as Kubo's add --only-hash (it reads
and hashes every byte, here, with no daemon).

A file in the folder that may not be read (no permission, held by
another program), or a folder that may not be listed, stops the add and
is named; --skip-unreadable leaves each such one out instead, and names
them after the add.

--nocopy keeps, in the repo, where the bytes of large files are rather
than a copy of them, as Kubo's --nocopy (the folders and small files are
copied): the disk holds them once. The files must then stay as they are:
a block whose file changed is gone ('kith repo verify' names them). A
folder shared with --watch or --sync is added so already.

With no daemon running, add starts one for itself and stops it after, as
Kubo's add works with no daemon: what it added is served to peers once
a daemon runs ('kith daemon', or 'kith service install').`,
		Example: "  kith add photo.jpg\n  kith add *.jpg\n  kith add --wrap beach-photos *.jpg\n  tar c ./docs | kith add - --name docs.tar\n  kith add -r ./holiday --name holiday-2026\n  kith add -r ./project --exclude .git --exclude node_modules --exclude '*.tmp'",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if err := checkAddArgs(args, name, wrap); err != nil {
				return err
			}
			opts := api.AddOptions{Name: name, NoPin: noPin, Private: private, Exclude: exclude, Wrap: wrap, NoCopy: noCopy, SkipUnreadable: skip}
			if noCopy && slices.Contains(args, "-") {
				return errors.New("--nocopy keeps where the bytes are in files: standard input has none; add it without --nocopy")
			}
			if dryRun {
				return e.dryRunAdd(args, recursive, opts)
			}
			if onlyHash {
				return e.hashOnly(cmd.Context(), args, recursive, opts, quiet)
			}
			// As Kubo's add, it works with no daemon running: one is started
			// for it, and what it added is served once one runs.
			stop, err := e.daemonFor(cmd.Context(), "add")
			if err != nil {
				return err
			}
			defer stop()
			defer func() {
				if e.started && err == nil {
					fmt.Fprintln(e.stderr, "note: peers can fetch it only while a kith daemon runs: start one with 'kith daemon' (or have it start at login: 'kith service install')")
				}
			}()
			c, err := e.client()
			if err != nil {
				return err
			}
			if wrap != "" {
				p := e.newProgress("adding", true)
				res, err := c.AddPaths(cmd.Context(), args, recursive, opts, p.event)
				p.done()
				if err != nil {
					return skipAdvice(err)
				}
				return e.printAdded(res, quiet)
			}
			// Several paths are added one after the other, each its own
			// pin and ticket, as if added one at a time; a path that
			// cannot be added stops the command before anything is.
			if len(args) > 1 {
				for _, path := range args {
					if path == "-" {
						continue
					}
					if err := client.CheckAddPath(path, recursive); err != nil {
						return err
					}
				}
			}
			for _, path := range args {
				p := e.newProgress("adding", true)
				var res api.AddResult
				if path == "-" {
					stdin := opts
					stdin.SkipUnreadable = false // a stream, read whole or not at all
					res, err = c.Add(cmd.Context(), stdinName(name), files.NewReaderFile(e.stdin), 0, stdin, p.event)
				} else {
					res, err = c.AddPath(cmd.Context(), path, recursive, opts, p.event)
				}
				p.done()
				if err != nil {
					return skipAdvice(err)
				}
				if err := e.printAdded(res, quiet); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&recursive, "recursive", "r", false, "add a folder and everything in it")
	cmd.Flags().StringVar(&name, "name", "", "name to record on the pin (default: the file or folder name)")
	cmd.Flags().BoolVar(&noPin, "no-pin", false, "store the blocks without pinning them")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only the CID")
	cmd.Flags().BoolVar(&private, "private", false, "do not announce it in the DHT (share it by ticket or group only)")
	cmd.Flags().StringVarP(&wrap, "wrap", "w", "", "add the paths together as one folder called `NAME`: one CID, one ticket for all")
	cmd.Flags().BoolVarP(&dryRun, "dry-run", "n", false, "add nothing: say what would be added, and what left out by which pattern")
	cmd.Flags().BoolVar(&onlyHash, "only-hash", false, "add nothing: print the CID it would have (reads every byte; needs no daemon)")
	cmd.Flags().BoolVar(&noCopy, "nocopy", false, "keep where large files' bytes are, not a copy: the files must stay as they are")
	cmd.Flags().BoolVar(&skip, "skip-unreadable", false, "leave out (and name) the files and folders in it that may not be read, rather than stop")
	excludeFlag(cmd, &exclude)
	return cmd
}

// skipAdvice adds --skip-unreadable to what an add's error about a file
// inside the folder that may not be read says to do.
func skipAdvice(err error) error {
	if api.IsUnreadableInside(err.Error()) {
		return fmt.Errorf("%w (or add with --skip-unreadable to leave out every one that may not be read)", err)
	}
	return err
}

// dryRunAdd prints what an add of paths would hold and leave out.
func (e *env) dryRunAdd(paths []string, recursive bool, opts api.AddOptions) error {
	if slices.Contains(paths, "-") {
		return errors.New("--dry-run looks at files and folders: - (standard input) has nothing to look at")
	}
	plans, err := client.DryRunAdd(e.repo, paths, recursive, opts)
	if err != nil {
		return err
	}
	if e.json {
		return e.printJSON(plans)
	}
	for _, p := range plans {
		what := fmt.Sprintf("%d file%s", p.Files, plural(p.Files))
		if p.Folders > 0 {
			what += fmt.Sprintf(" in %d folder%s", p.Folders, plural(p.Folders))
		}
		if p.Links > 0 {
			what += fmt.Sprintf(", %d symbolic link%s", p.Links, plural(p.Links))
		}
		fmt.Fprintf(e.stdout, "would add %s: %s, %s\n", printable(p.Path), what, humanBytes(p.Bytes))
		if len(p.Left) > 0 {
			fmt.Fprintf(e.stdout, "would leave out %d:\n", len(p.Left))
			w := 0
			for _, l := range p.Left {
				w = max(w, len(printable(l.Path)))
			}
			for _, l := range p.Left {
				fmt.Fprintf(e.stdout, "  %-*s  by %s\n", w, printable(l.Path), printable(l.Pattern))
			}
		}
		if p.Repo != "" {
			fmt.Fprintf(e.stdout, "would leave out kith's repo: %s\n", printable(p.Repo))
		}
		for _, s := range p.Special {
			fmt.Fprintf(e.stdout, "would leave out %s (%s: it holds no content)\n", printable(s.Path), s.Kind)
		}
	}
	return nil
}

// checkAddArgs refuses, before anything is added, what add cannot do
// with its paths and names.
func checkAddArgs(args []string, name, wrap string) error {
	stdin := 0
	for _, a := range args {
		if a == "-" {
			stdin++
		}
	}
	switch {
	case wrap != "" && name != "":
		return errors.New("--wrap names the folder it makes: leave --name out")
	case wrap != "" && stdin > 0:
		return errors.New("- (standard input) cannot go in a --wrap folder: add it on its own")
	case len(args) > 1 && name != "":
		return fmt.Errorf("--name names one file or folder, and %d are given: add them one at a time to name each, or --wrap NAME them in one folder", len(args))
	case stdin > 1:
		return errors.New("- (standard input) can be read once: give it once")
	}
	return nil
}

// printAdded prints what one add made: its CID, name, size and ticket.
func (e *env) printAdded(res api.AddResult, quiet bool) error {
	switch {
	case e.json:
		return e.printJSON(res)
	case quiet:
		fmt.Fprintln(e.stdout, res.Cid)
	default:
		private := ""
		if res.Private {
			private = ", private: not announced in the DHT"
		}
		fmt.Fprintf(e.stdout, "added %s %s (%s%s)\n", res.Cid, printable(res.Name), humanBytes(int64(res.Size)), private)
		if res.Ticket != "" {
			fmt.Fprintf(e.stdout, "ticket (for a friend: kith get TICKET):\n  %s\n", res.Ticket)
		}
	}
	if !e.json {
		e.printSkipped(res)
		e.printUnreadable(res, unreadOne, unreadMany)
	}
	return nil
}

// printSkipped notes, on standard error, the special files an add left
// out of a folder.
func (e *env) printSkipped(res api.AddResult) {
	if res.SkippedCount == 0 {
		return
	}
	files := "special files"
	if res.SkippedCount == 1 {
		files = "special file"
	}
	fmt.Fprintf(e.stderr, "left out %d %s (sockets, named pipes and devices hold no content):\n", res.SkippedCount, files)
	for _, f := range res.Skipped {
		fmt.Fprintf(e.stderr, "  %s (%s)\n", printable(f.Path), f.Kind)
	}
	if more := res.SkippedCount - len(res.Skipped); more > 0 {
		fmt.Fprintf(e.stderr, "  and %d more\n", more)
	}
}

// unreadOne and unreadMany say what --skip-unreadable left out
// (printUnreadable).
const (
	unreadOne  = "1 file or folder that may not be read"
	unreadMany = "%d files or folders that may not be read"
)

// printUnreadable names the files an add left out, not able to read them
// (AddOptions.SkipUnreadable), after a line saying what they are: one (for
// a single file) or many (a format for their count).
func (e *env) printUnreadable(res api.AddResult, one, many string) {
	if res.UnreadableCount == 0 {
		return
	}
	what := fmt.Sprintf(many, res.UnreadableCount)
	if res.UnreadableCount == 1 {
		what = one
	}
	fmt.Fprintf(e.stderr, "left out %s:\n", what)
	for _, f := range res.Unreadable {
		fmt.Fprintf(e.stderr, "  %s (%s)\n", printable(f.Path), f.Reason)
	}
	if more := res.UnreadableCount - len(res.Unreadable); more > 0 {
		fmt.Fprintf(e.stderr, "  and %d more\n", more)
	}
}

// stdinName is the name of what `kith add -` reads: --name, else "stdin".
func stdinName(name string) string {
	if name != "" {
		return name
	}
	return "stdin"
}

// excludeFlag adds --exclude, for commands that add a folder.
func excludeFlag(cmd *cobra.Command, to *[]string) {
	cmd.Flags().StringArrayVar(to, "exclude", nil, "leave out what matches `PATTERN`: a name at any depth with * ? [...] wildcards (*.tmp, .git) or a path from the top (/build, docs/drafts, **/cache); a trailing / for folders only; repeat for more; !PATTERN brings back what an earlier one left out")
}

// humanBytes formats a byte count with binary units ("1.5 MiB").
func humanBytes(n int64) string { return humanize.IBytes(uint64(max(n, 0))) }
