package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/kith-p2p/kith/web/api"
)

// notWritten lists what a get left out because the file system it wrote
// to cannot hold it, and how to get one of them elsewhere.
func notWritten(w io.Writer, res api.GetResult) {
	if len(res.NotWritten) == 0 {
		return
	}
	fmt.Fprintf(w, "not written (%d): this file system cannot hold them beside the rest\n", len(res.NotWritten))
	for _, l := range res.NotWritten {
		fmt.Fprintf(w, "  %s: %s\n", printable(l.Path), printable(l.Why))
	}
	// A file or folder to name, rather than a link: one is as
	// unwritable on any disk like this one.
	one := res.NotWritten[0]
	if i := slices.IndexFunc(res.NotWritten, func(l api.NotWritten) bool { return l.Kind != "link" }); i >= 0 {
		one = res.NotWritten[i]
	}
	fmt.Fprintf(w, "get one elsewhere (another name, another disk): kith get %s -o PATH\n", shellWord(res.Cid+"/"+one.Path))
}

// notWrittenErr is a get's error when it left entries out (the command
// then fails, as rsync does for a partial transfer: a script must not
// take the folder for whole), or when its folder was not made to sync.
func notWrittenErr(res api.GetResult, syncRefused error) error {
	// conflict, for --json: what was got and the disk it went to disagree.
	switch {
	case syncRefused != nil:
		return &api.Error{Kind: api.KindConflict, Message: fmt.Sprintf("saved %s to %s, but %v", res.Cid, printable(res.Path), syncRefused)}
	case len(res.NotWritten) > 0:
		return &api.Error{Kind: api.KindConflict, Message: fmt.Sprintf("saved %s to %s without %d of its entries (listed above)", res.Cid, printable(res.Path), len(res.NotWritten))}
	}
	return nil
}

// shellWord is s as one word for a POSIX shell: as it is when it holds
// only characters no shell acts on, else in single quotes.
func shellWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/-+,:@=") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(printable(s), "'", `'\''`) + "'"
}
