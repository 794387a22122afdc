package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/kith-p2p/kith/web/api"
)

// progress draws a long operation's events: a bar on a terminal, one JSON
// line per event with --json, nothing when stderr is piped.
//
// A fetch that resumes starts with part of its content already here: the
// bar then says so on a line of its own and counts only the rest, so that
// it neither starts at 0% and jumps nor takes the bytes found here for a
// burst of speed. Its time field is labelled (ETA), from the daemon's
// measured rate.
type progress struct {
	e       *env
	bar     *progressbar.ProgressBar
	desc    string
	bytes   bool
	have    int64     // already here when the fetch resumed
	resumed bool      // have is known (the first bytes from peers came)
	last    api.Event // the latest event, for a message if the operation stops
	waiting bool      // the fetch waits for a peer that has the rest
}

// newProgress prepares progress output; bytes says whether the operation
// counts bytes (a bar with rate and ETA) or items (a spinner with a count).
func (e *env) newProgress(desc string, bytes bool) *progress {
	return &progress{e: e, desc: desc, bytes: bytes}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// drawsBars reports whether progress bars go to stderr: a terminal (or a
// test that says so).
func (e *env) drawsBars() bool { return e.tty || isTerminal(e.stderr) }

// event handles one progress event.
func (p *progress) event(ev api.Event) {
	if ev.Type == "progress" || ev.Type == "" {
		p.last = ev
	}
	if p.e.json {
		b, _ := json.Marshal(ev)
		p.e.stdout.Write(append(b, '\n'))
		return
	}
	if ev.Phase == "waiting" && !p.waiting {
		// Said once per wait, on a line of its own (also when stderr is
		// not a terminal: it says why nothing happens); the bar stays.
		p.waiting = true
		if p.bar != nil {
			_ = p.bar.Clear()
		}
		fmt.Fprintln(p.e.stderr, waitingText(ev))
	} else if ev.Phase != "waiting" && ev.Peers > 0 {
		p.waiting = false
	}
	if !p.e.drawsBars() {
		return
	}
	if p.bytes && !p.resumed && ev.Have > 0 && ev.Total > 0 && ev.Bytes > ev.Have {
		// The first bytes from peers: what was found here is known now
		// (the fetch looks at the repo first). The bar, if one was drawn
		// while peers were sought, starts again over the rest.
		p.resumed, p.have = true, ev.Have
		p.done() // Finish, not only Clear: a spinner's render goroutine ends only then
		p.bar = nil
		fmt.Fprintf(p.e.stderr, "resuming: %s of %s already here\n", humanBytes(ev.Have), humanBytes(ev.Total))
	}
	if p.bar == nil {
		max := int64(-1)
		if p.bytes && ev.Total > 0 {
			max = ev.Total - p.have
		}
		opts := []progressbar.Option{
			progressbar.OptionSetWriter(p.e.stderr),
			progressbar.OptionSetDescription(p.desc),
			progressbar.OptionThrottle(100_000_000),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionSetWidth(30),
		}
		if p.bytes {
			opts = append(opts, progressbar.OptionShowBytes(true), progressbar.OptionShowTotalBytes(true), progressbar.OptionShowCount(),
				progressbar.OptionUseIECUnits(true),     // MiB, as every other line of kith says
				progressbar.OptionSetPredictTime(false)) // an ETA with a label goes in the description
		} else {
			opts = append(opts, progressbar.OptionShowCount(), progressbar.OptionSpinnerType(14))
		}
		p.bar = progressbar.NewOptions64(max, opts...)
	}
	desc := p.desc
	switch {
	case p.waiting:
		desc = p.desc + " (waiting for a peer)"
	case ev.Phase == "compare":
		desc = "comparing with what is there" // a get run again: is it the same?
	case ev.Peers > 0:
		desc = fmt.Sprintf("%s from %d peer%s", p.desc, ev.Peers, plural(ev.Peers))
	case ev.Phase != "" && !p.bytes:
		desc = p.desc + " (" + ev.Phase + ")"
	}
	if p.have > 0 {
		desc += " (the rest)"
	}
	if eta := eta(ev); eta != "" && p.bytes {
		desc += ", ETA " + eta
	}
	p.bar.Describe(desc)
	if p.bytes && ev.Total > 0 && p.bar.GetMax64() != ev.Total-p.have {
		p.bar.ChangeMax64(ev.Total - p.have)
	}
	if p.bytes {
		_ = p.bar.Set64(max(ev.Bytes-p.have, 0))
	} else {
		_ = p.bar.Set64(ev.Count)
	}
}

// waitingText says that a fetch whose peers went away waits for one that
// has the rest, and until when.
func waitingText(ev api.Event) string {
	until := ""
	if !ev.Until.IsZero() {
		until = " until " + ev.Until.Local().Format("15:04")
	}
	at := ""
	if ev.Total > 0 {
		at = fmt.Sprintf(" (%s of %s here)", humanBytes(ev.Bytes), humanBytes(ev.Total))
	}
	return fmt.Sprintf("no peer that has the rest is reachable now%s: waiting%s for one to come back (Ctrl-C stops; the same command later fetches only the rest)", at, until)
}

// eta is the time left at the daemon's measured rate, as m:ss (h:mm:ss
// from an hour), or "" while the rate or the total is unknown.
func eta(ev api.Event) string {
	if ev.Rate <= 0 || ev.Total <= 0 || ev.Bytes >= ev.Total {
		return ""
	}
	secs := int64(float64(ev.Total-ev.Bytes) / ev.Rate)
	if secs >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", secs/3600, secs/60%60, secs%60)
	}
	return fmt.Sprintf("%d:%02d", secs/60, secs%60)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// stopped is the message for an operation interrupted by the user (Ctrl-C):
// how far it got, and that running it again resumes it.
func (p *progress) stopped(what string) error {
	at := ""
	if ev := p.last; ev.Total > 0 {
		at = fmt.Sprintf(" at %d%% (%s of %s)", ev.Bytes*100/ev.Total, humanBytes(ev.Bytes), humanBytes(ev.Total))
	}
	return fmt.Errorf("%s stopped%s; run the same command to resume: what is here is kept", what, at)
}

// done clears the bar.
func (p *progress) done() {
	if p.bar != nil {
		_ = p.bar.Finish()
		_ = p.bar.Clear()
	}
}
