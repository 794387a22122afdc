// Package cli holds kith's commands: one file per command. Every command
// except daemon is a thin client of the daemon's local API.
package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"unicode"
	"unicode/utf8"

	"github.com/ipfs/go-cid"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/kith-p2p/kith/blockstore/dag"
	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/protocol/ticket"
	"github.com/kith-p2p/kith/web/api"
	"github.com/kith-p2p/kith/web/client"
)

// env is what every command shares: flags of the root command and the
// process's streams.
type env struct {
	repo   string
	json   bool
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	tty    bool // draw progress bars on stderr although it is no terminal (tests)
	// started: this command started a daemon for itself (daemonFor),
	// which stops when it ends.
	started bool
}

// Run executes kith with args and returns the exit code. Errors are printed
// as one line on stderr.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	root := newRoot(e)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	ctx, stop := stopOnSignal()
	defer stop()
	if err := root.ExecuteContext(ctx); err != nil {
		msg := userMessage(err)
		if e.json {
			// The last line on stdout, as a result would be: an event of
			// the stream long operations print.
			b, _ := json.Marshal(api.Event{Type: "error", Error: msg, Kind: errorKind(err)})
			fmt.Fprintln(stdout, string(b))
		}
		fmt.Fprintln(stderr, "kith: "+msg)
		return 1
	}
	return 0
}

// stopOnSignal returns a context that the first Ctrl-C (or SIGTERM) ends,
// asking the command to stop cleanly; a second one ends the process at
// once, as the signal's default does. The default is back before the
// context ends, so whatever the command says when it starts stopping
// ("a second Ctrl-C stops it at once") is already true. stop releases
// the signals.
func stopOnSignal() (_ context.Context, stop func()) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		select {
		case <-sigs:
			signal.Stop(sigs)
			cancel()
		case <-done:
		}
	}()
	return ctx, sync.OnceFunc(func() {
		signal.Stop(sigs)
		close(done)
		cancel()
	})
}

// errorKind sorts a command's error into the API's vocabulary, for --json:
// the daemon's kinds, and for what the command refused by itself (a bad
// argument, flag or file), invalid.
func errorKind(err error) api.Kind {
	switch {
	case errors.Is(err, client.ErrNoDaemon):
		return api.KindUnavailable
	case errors.Is(err, os.ErrNotExist):
		return api.KindNotFound // a local path
	}
	if k := api.KindOf(err); k != api.KindInternal {
		return k
	}
	return api.KindInvalid
}

// flagError is how an unknown or malformed flag is reported: with the
// closest flag of the command when there is one.
func flagError(c *cobra.Command, err error) error {
	name, ok := strings.CutPrefix(err.Error(), "unknown flag: --")
	if !ok {
		return fmt.Errorf("%w (`%s --help` lists the flags)", err, c.CommandPath())
	}
	best, bestD := "", 3 // suggest only within 2 edits
	visit := func(f *pflag.Flag) {
		if d := node.EditDistance(name, f.Name); d < bestD {
			best, bestD = f.Name, d
		}
	}
	c.Flags().VisitAll(visit)
	c.InheritedFlags().VisitAll(visit)
	if best != "" {
		return fmt.Errorf("unknown flag --%s: did you mean --%s?", name, best)
	}
	return fmt.Errorf("unknown flag --%s (`%s --help` lists the flags)", name, c.CommandPath())
}

func newRoot(e *env) *cobra.Command {
	defRepo, _ := node.DefaultRepoPath()
	root := &cobra.Command{
		Use:   "kith",
		Short: "Share files and folders peer to peer",
		Long: `kith shares files and folders between computers with no server in between.

Run the daemon with 'kith daemon' (or have it start at login: 'kith
service install'): it serves what you add and share, and keeps your
groups' copies. Commands that need it only while they run (add, get,
cat, ls, pin, name, export, import, repo, gc) start one for themselves
when none runs. Content is addressed by CID: the same bytes give the same
CID on every machine, and any IPFS tool agrees on it, as it does on IPNS
names (kith name).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(flagError)
	root.PersistentFlags().StringVar(&e.repo, "repo", defRepo, "repo folder ($KITH_PATH when set, else the platform's usual folder: see 'kith daemon --help')")
	root.PersistentFlags().BoolVar(&e.json, "json", false, "print machine-readable JSON (streams events for long work)")
	root.AddCommand(
		daemonCmd(e), addCmd(e), sendCmd(e), getCmd(e), catCmd(e), lsCmd(e), pinCmd(e), gcCmd(e),
		repoCmd(e), exportCmd(e), importCmd(e), idCmd(e), versionCmd(e), shutdownCmd(e),
		connectCmd(e), peersCmd(e), uploadsCmd(e), dhtCmd(e), nameCmd(e), doctorCmd(e),
		groupCmd(e), shareCmd(e), unshareCmd(e), statusCmd(e), watchCmd(e), mirrorCmd(e),
		uiCmd(e), configCmd(e), logCmd(e), serviceCmd(e),
	)
	refuseUnknownSubcommands(root)
	explainArgs(root)
	e.addCompletions(root)
	return root
}

// explainArgs makes every command that takes arguments say, when it gets
// too few or too many, what it takes and how it is used, in kith's words:
// cobra's own "accepts 1 arg(s), received 0" names neither.
func explainArgs(c *cobra.Command) {
	for _, sub := range c.Commands() {
		explainArgs(sub)
	}
	if c.Args == nil || c.HasSubCommands() {
		return
	}
	check := c.Args
	c.Args = func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return argsError(cmd, args, check(cmd, append(slices.Clip(args), "x")) == nil)
		}
		return nil
	}
}

// argsError is the sentence for a command given the wrong arguments: too
// few (more would do), or too many. What it takes is read from its Use
// line: NAME is needed, [NAME] may be left out, NAME... is one or more.
func argsError(cmd *cobra.Command, args []string, tooFew bool) error {
	path := cmd.CommandPath()
	words := strings.Fields(cmd.Use)[1:]
	if len(words) == 0 {
		return fmt.Errorf("`%s` takes no arguments, and was given %q (`%s --help` says more)", path, args[0], path)
	}
	needed := 0
	for _, w := range words {
		if !strings.HasPrefix(w, "[") {
			needed++
		}
	}
	usage := fmt.Sprintf("%s %s (`%s --help` says more)", path, strings.Join(words, " "), path)
	if tooFew {
		least := count(needed)
		if strings.HasSuffix(words[len(words)-1], "...") {
			least = "at least " + least
		}
		return fmt.Errorf("`%s` needs %s, and was given %d: %s", path, least, len(args), usage)
	}
	most := "at most " + count(len(words))
	if len(words) == needed {
		most = count(needed)
	}
	return fmt.Errorf("`%s` takes %s, and was given %d (a name with spaces needs quotes): %s", path, most, len(args), usage)
}

// count says n arguments in words.
func count(n int) string {
	if n == 1 {
		return "1 argument"
	}
	return strconv.Itoa(n) + " arguments"
}

// refuseUnknownSubcommands makes kith and every command that only groups
// others (kith pin, kith group) fail on a word that is none of them, with
// the same message and suggestions everywhere: cobra would print a
// subcommand's help and exit 0, so a script's `kith pin lsx` would seem to
// work. Alone, such a command still prints its help.
func refuseUnknownSubcommands(c *cobra.Command) {
	if !c.HasSubCommands() {
		return
	}
	if c.Run == nil && c.RunE == nil {
		c.Args = unknownSubcommand
		if c.SuggestionsMinimumDistance <= 0 {
			c.SuggestionsMinimumDistance = 2 // cobra's own default
		}
		c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	}
	for _, sub := range c.Commands() {
		refuseUnknownSubcommands(sub)
	}
}

// client finds the running daemon of the repo.
func (e *env) client() (*client.Client, error) {
	return client.FromRepo(e.repo)
}

// cidClient validates a CID argument, then finds the daemon: what most
// commands do first. What is no CID or ticket may be a pin's name
// (pinNamed).
func (e *env) cidClient(arg string) (string, *client.Client, error) {
	id, err := parseCID(arg)
	var notRef notRefError
	if err != nil && !errors.As(err, &notRef) {
		return "", nil, err
	}
	if err == nil {
		e.sayLookup(id)
	}
	c, err := e.client()
	switch {
	case err != nil && notRef != "":
		return "", nil, notRef // no daemon to ask for a pin of that name
	case err == nil && notRef != "":
		id, _, err = pinNamed(context.Background(), c, arg, notRef)
	}
	return id, c, err
}

// sayLookup tells on stderr that the daemon looks up the name ref starts
// with (parseCID's /ipns/NAME), which may take up to a minute in the DHT.
func (e *env) sayLookup(ref string) {
	root, _, err := dag.SplitPath(ref)
	if err != nil || e.json {
		return
	}
	if name, ok := dag.IsName(root); ok {
		fmt.Fprintf(e.stderr, "looking up %s%s (up to a minute)...\n", dag.NamePrefix, name)
	}
}

// printJSON writes v as one line of JSON on stdout; with progress events
// before it, the result is always the last line.
func (e *env) printJSON(v any) error {
	return json.NewEncoder(e.stdout).Encode(v)
}

// notRefError is parseCID's error for what is no CID or ticket (shown
// cut, if long).
type notRefError string

func (e notRefError) Error() string {
	return fmt.Sprintf("%q is neither a CID nor a kith ticket", string(e))
}

// parseCID validates a CID argument before anything is sent.
//
// A share ticket (kith1...) is accepted wherever a CID is: it is checked
// here, so a damaged one fails before any request, and sent as it is (the
// daemon dials its peers). Either may be followed by a path into the
// folder it names (CID/a/b, /ipfs/CID/a/b), which the daemon follows. So
// is a name, /ipns/NAME (an IPNS name or a DNSLink domain), which the
// daemon looks up.
func parseCID(s string) (string, error) {
	root, names, err := dag.SplitPath(s)
	if err != nil {
		return "", err
	}
	if name, ok := dag.IsName(root); ok {
		if _, err := dag.CheckIPNSName(name); err != nil {
			return "", err
		}
	} else if ticket.IsTicket(root) {
		if _, err := ticket.Parse(root); err != nil {
			return "", err
		}
	} else {
		c, err := cid.Decode(root)
		if err != nil {
			if len(root) > 64 {
				root = root[:61] + "..."
			}
			return "", notRefError(root)
		}
		root = c.String()
	}
	return strings.Join(append([]string{root}, names...), "/"), nil
}

// refName is the file name a reference's content is saved under: the last
// name of its path, else the name its ticket carries, else its CID.
func refName(ref string) string {
	root, names, err := dag.SplitPath(ref)
	if err != nil {
		return ref
	}
	if len(names) > 0 {
		if name := ticket.CleanName(names[len(names)-1]); name != "" {
			return name
		}
	}
	if t, err := ticket.Parse(root); err == nil {
		if t.Name != "" {
			return t.Name
		}
		return t.Cid.String()
	}
	if name, ok := dag.IsName(root); ok {
		return name // as Kubo's ipfs get names it
	}
	return root
}

// userMessage turns an error into the one line a user reads.
func userMessage(err error) string {
	var ae *api.Error
	switch {
	case errors.Is(err, client.ErrNoDaemon):
		return client.ErrNoDaemon.Error()
	case errors.Is(err, syscall.ENOSPC):
		return diskFull(err.Error())
	case errors.As(err, &ae) && ae.Kind == api.KindDiskFull:
		return diskFull(ae.Message)
	}
	return printable(oneLine(api.Sentence(err)))
}

// unknownSubcommand refuses any argument to a command that only groups
// others, suggesting the subcommands it is close to.
func unknownSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	var quoted []string
	for _, n := range slices.Sorted(slices.Values(cmd.SuggestionsFor(args[0]))) {
		quoted = append(quoted, strconv.Quote(cmd.CommandPath()+" "+n))
	}
	if len(quoted) > 0 {
		return errors.New(msg + ": did you mean " + strings.Join(quoted, " or ") + "?")
	}
	return fmt.Errorf("%s (`%s --help` lists its commands)", msg, cmd.CommandPath())
}

// oneLine joins a message of several lines into one, without the lines'
// indentation.
func oneLine(msg string) string {
	var parts []string
	for _, l := range strings.Split(msg, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, " ")
}

// printable escapes what a terminal would act on in text that came from
// elsewhere (names inside shared folders, pin names, group member names,
// peers' agent strings): control characters, including the escape
// sequences that could retitle the terminal or clear the screen, and
// invalid UTF-8 are written as Go escapes (\x1b, \u009b).
func printable(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unicode.IsControl(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// diskFull says a disk-full error once, without the layers above it.
func diskFull(msg string) string {
	if i := strings.Index(msg, "disk full: "); i >= 0 {
		return printable(msg[i:])
	}
	return "disk full: " + printable(msg)
}

// readSecret reads one line from stdin: on a terminal, after printing
// prompt to stderr and without echoing what is typed (a token is a
// password); otherwise as piped.
func (e *env) readSecret(prompt string) (string, error) {
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(e.stderr, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", fmt.Errorf("read the token from the terminal: %w", err)
		}
		return string(b), nil
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", nil
	}
	return line, nil
}
