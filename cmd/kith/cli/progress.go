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
type progress struct {
	e     *env
	bar   *progressbar.ProgressBar
	desc  string
	bytes bool
	last  api.Event // the latest event, for a message if the operation stops
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
	if !isTerminal(p.e.stderr) {
		return
	}
	if p.bar == nil {
		max := int64(-1)
		if p.bytes && ev.Total > 0 {
			max = ev.Total
		}
		opts := []progressbar.Option{
			progressbar.OptionSetWriter(p.e.stderr),
			progressbar.OptionSetDescription(p.desc),
			progressbar.OptionThrottle(100_000_000),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionSetWidth(30),
		}
		if p.bytes {
			opts = append(opts, progressbar.OptionShowBytes(true), progressbar.OptionShowTotalBytes(true), progressbar.OptionShowCount())
		} else {
			opts = append(opts, progressbar.OptionShowCount(), progressbar.OptionSpinnerType(14))
		}
		p.bar = progressbar.NewOptions64(max, opts...)
	}
	switch {
	case ev.Peers > 0:
		p.bar.Describe(fmt.Sprintf("%s from %d peer%s", p.desc, ev.Peers, plural(ev.Peers)))
	case ev.Phase != "" && !p.bytes:
		p.bar.Describe(p.desc + " (" + ev.Phase + ")")
	}
	if p.bytes && ev.Total > 0 && p.bar.GetMax64() != ev.Total {
		p.bar.ChangeMax64(ev.Total)
	}
	if p.bytes {
		_ = p.bar.Set64(ev.Bytes)
	} else {
		_ = p.bar.Set64(ev.Count)
	}
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
