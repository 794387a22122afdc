package dag

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// ErrBadPattern is returned (wrapped, with the pattern) by NewExclusion for
// a pattern it cannot use.
var ErrBadPattern = errors.New("bad exclude pattern")

// Exclusion is a set of patterns that OpenPath, Fingerprint, WriteTo and
// FilesWritten leave out of a folder, as .gitignore and Syncthing's ignore
// patterns do. A pattern without a slash is a name matched at any depth,
// with the shell's wildcards (`*.tmp`, `photo?.jpg`, `[Tt]humbs.db`,
// `.git`, `node_modules`); one with a slash is a path from the top of the
// folder (`/build` only at the top, `docs/drafts`, `Photos/*/Raw`), where
// a `**` element matches any number of folders (`**/cache`, `a/**/b`). A
// trailing slash matches folders only; what a folder left out holds is
// left out with it. A pattern starting with ! brings back what an earlier
// one left out (`*.log` then `!keep.log`): as in .gitignore, the last
// pattern that matches an entry decides, and nothing inside a folder left
// out comes back (a walk never enters it); `\!` starts a name with !.
// WithoutFolder adds a folder left out wherever it is met (kith's own
// repo). The zero Exclusion leaves nothing out.
type Exclusion struct {
	patterns []pattern
	folders  []fs.FileInfo // left out wherever met (os.SameFile)
	skipped  *Skipped      // told of the special files left out (Reporting)
	unread   *Unread       // set: unreadable entries are left out (LeavingUnreadable)
}

// pattern is one of an Exclusion's: a name's glob, or the globs of a
// path's elements (elems, anchored at the top).
type pattern struct {
	text    string // as given (a .kithignore's: with its line)
	glob    string
	elems   []string
	dirOnly bool
	negate  bool // !: brings back what matches
	literal bool // glob has no wildcard: a name compared as it is
}

// NewExclusion checks patterns and returns the Exclusion they make.
func NewExclusion(patterns []string) (Exclusion, error) {
	var x Exclusion
	for _, p := range patterns {
		pt, err := parsePattern(p)
		if err != nil {
			return Exclusion{}, err
		}
		x.patterns = append(x.patterns, pt)
	}
	return x, nil
}

func parsePattern(p string) (pattern, error) {
	glob := strings.TrimSpace(p)
	pt := pattern{text: glob}
	if rest, ok := strings.CutPrefix(glob, "!"); ok {
		pt.negate, glob = true, rest
	}
	pt.dirOnly = strings.HasSuffix(glob, "/")
	glob = strings.TrimSuffix(glob, "/")
	if !strings.Contains(glob, "/") {
		if glob == "" {
			return pattern{}, fmt.Errorf("%w %q: give a name or a pattern of names (like *.tmp or node_modules), or a path from the top of the folder (like /build or docs/drafts)", ErrBadPattern, p)
		}
		if _, err := path.Match(glob, ""); err != nil {
			return pattern{}, fmt.Errorf("%w %q: %v", ErrBadPattern, p, err)
		}
		pt.glob = glob
		pt.literal = !strings.ContainsAny(glob, `*?[\`)
		return pt, nil
	}
	for _, el := range strings.Split(strings.TrimPrefix(glob, "/"), "/") {
		switch el {
		case "", ".", "..":
			return pattern{}, fmt.Errorf("%w %q: a path from the top of the folder has no empty, . or .. element (like /build or docs/drafts)", ErrBadPattern, p)
		case "**":
		default:
			if _, err := path.Match(el, ""); err != nil {
				return pattern{}, fmt.Errorf("%w %q: %v", ErrBadPattern, p, err)
			}
		}
		pt.elems = append(pt.elems, el)
	}
	if len(pt.elems) == 1 && pt.elems[0] == "**" && !pt.negate {
		return pattern{}, fmt.Errorf("%w %q: it would leave out everything", ErrBadPattern, p)
	}
	return pt, nil
}

// matches reports whether the entry at the slash path rel matches p.
func (p pattern) matches(rel string, dir bool) bool {
	return p.matchesEntry(&entryPath{rel: rel, base: path.Base(rel)}, dir)
}

// entryPath is an entry's slash path and its last element, split once
// for all the patterns it is matched against.
type entryPath struct {
	rel, base string
	elems     []string // split when a pattern first needs them
}

func (p pattern) matchesEntry(e *entryPath, dir bool) bool {
	if p.dirOnly && !dir {
		return false
	}
	if p.elems == nil {
		if p.literal {
			return p.glob == e.base
		}
		ok, _ := path.Match(p.glob, e.base)
		return ok
	}
	if e.elems == nil {
		e.elems = strings.Split(e.rel, "/")
	}
	return matchElems(p.elems, e.elems)
}

// matchElems matches the path elements names against the globs elems,
// where "**" matches any number of elements (one at least at the end).
func matchElems(elems, names []string) bool {
	for len(elems) > 0 {
		if elems[0] == "**" {
			if len(elems) == 1 {
				return len(names) > 0 // "logs/**": what is in logs, not logs
			}
			for i := 0; i <= len(names); i++ {
				if matchElems(elems[1:], names[i:]) {
					return true
				}
			}
			return false
		}
		if len(names) == 0 {
			return false
		}
		if ok, _ := path.Match(elems[0], names[0]); !ok {
			return false
		}
		elems, names = elems[1:], names[1:]
	}
	return len(names) == 0
}

// WithoutFolder returns x, leaving out also the folder at p wherever a
// walk meets it, by identity (the same folder reached by another path or
// through a link is the same), not by name. A p that cannot be looked at
// (not there yet) adds nothing.
func (x Exclusion) WithoutFolder(p string) Exclusion {
	st, err := os.Stat(p)
	if err != nil || !st.IsDir() {
		return x
	}
	x.folders = append(slices.Clip(x.folders), st)
	return x
}

// Within reports whether p is, or is inside, a folder WithoutFolder left
// out (p's links are followed), and names that folder.
func (x Exclusion) Within(p string) (string, bool) {
	if len(x.folders) == 0 {
		return "", false
	}
	p, err := filepath.Abs(p)
	if err != nil {
		return "", false
	}
	if real, err := filepath.EvalSymlinks(p); err == nil {
		p = real
	}
	for {
		if st, err := os.Stat(p); err == nil && x.isFolder(st) {
			return p, true
		}
		up := filepath.Dir(p)
		if up == p {
			return "", false
		}
		p = up
	}
}

// isFolder reports whether st is one of the folders left out.
func (x Exclusion) isFolder(st fs.FileInfo) bool {
	for _, f := range x.folders {
		if os.SameFile(f, st) {
			return true
		}
	}
	return false
}

// Leaves reports whether the entry e of the folder dir is left out: by a
// pattern (rel is dir's slash path from the top of what is read, "" for
// the top), or being a folder WithoutFolder named.
func (x Exclusion) Leaves(dir, rel string, e fs.DirEntry) bool {
	if x.Excludes(path.Join(rel, e.Name()), e.IsDir()) {
		return true
	}
	if len(x.folders) == 0 || !e.IsDir() {
		return false
	}
	st, err := os.Lstat(filepath.Join(dir, e.Name()))
	return err == nil && x.isFolder(st)
}

// None reports whether x has no patterns.
func (x Exclusion) None() bool { return len(x.patterns) == 0 }

// Which names the pattern that leaves out the entry at rel (a folder when
// dir), as Excludes decides: as it was given, and for a pattern of an
// IgnoreFile, with the file's line.
func (x Exclusion) Which(rel string, dir bool) (string, bool) {
	if p, ok := x.last(rel, dir); ok && !p.negate {
		return p.text, true
	}
	return "", false
}

// Excludes reports whether the patterns leave out the entry at rel (a
// folder when dir): its slash path from the top of the folder ("a/b.txt").
// The last pattern that matches decides (a ! one brings it back). Only
// the entry itself is looked at: what holds a folder left out is the
// caller's to skip (LeftOut looks at the whole path).
func (x Exclusion) Excludes(rel string, dir bool) bool {
	p, ok := x.last(rel, dir)
	return ok && !p.negate
}

// last is the last of x's patterns that matches the entry at rel.
func (x Exclusion) last(rel string, dir bool) (pattern, bool) {
	e := &entryPath{rel: rel, base: path.Base(rel)}
	for i := len(x.patterns) - 1; i >= 0; i-- {
		if x.patterns[i].matchesEntry(e, dir) {
			return x.patterns[i], true
		}
	}
	return pattern{}, false
}

// LeftOut reports whether a pattern leaves out the entry at the slash path
// rel (a folder when dir) or one of the folders on the way to it.
func (x Exclusion) LeftOut(rel string, dir bool) bool {
	if x.None() {
		return false
	}
	for i := 0; i < len(rel); i++ {
		if rel[i] == '/' && x.Excludes(rel[:i], true) {
			return true
		}
	}
	return x.Excludes(rel, dir)
}

// IgnoreFile is the file at the top of a folder whose lines are patterns
// OpenPath and Fingerprint leave out of it, as Syncthing's .stignore and
// git's .gitignore: one pattern a line, as NewExclusion takes them (paths
// from that folder's top, ! to bring back), blank lines and lines starting
// with # skipped. The patterns given to the command come after its lines
// (the last that matches decides): they can bring back what the file
// leaves out, and the file cannot bring back what they leave out.
// It is read at the top of the folder OpenPath opens only (not of the
// folders OpenPaths wraps), and is itself added as any file is.
const IgnoreFile = ".kithignore"

// SystemFiles are the patterns of the files and folders that operating
// systems and office applications leave in folders of their own accord,
// which nobody shares on purpose (as Dropbox, Resilio Sync and Nextcloud
// leave them out): macOS's Finder settings (.DS_Store), the resource
// forks it writes on other file systems (._NAME) and its volume folders;
// Windows' thumbnail caches, folder settings and volume folders; the
// lock files Microsoft Office (~$NAME) and LibreOffice (.~lock.NAME#)
// keep beside a document while it is open (synced, another device would
// take the document for open elsewhere). A folder read whole (OpenPath,
// Fingerprint, DryRun, through WithIgnoreFile; the folders OpenPaths
// wraps, through WithSystemFiles) leaves them out before its IgnoreFile's
// patterns, so a !.DS_Store line there brings one back. A path given
// itself is never left out.
var SystemFiles = []string{
	".DS_Store", "._*", ".Spotlight-V100/", ".Trashes/", ".fseventsd/", ".TemporaryItems/",
	"Thumbs.db", "ehthumbs.db", "desktop.ini", "$RECYCLE.BIN/", "System Volume Information/",
	"~$*", ".~lock.*#",
}

// Clutter reports whether name is one of the SystemFiles that a system
// writes into the folders it shows, holding nothing but how it shows
// them (Finder's .DS_Store and ._NAME files, Windows' Thumbs.db,
// ehthumbs.db and desktop.ini): a folder that holds nothing else is empty
// to its user. Lock files are not: a document is open.
func Clutter(name string) bool {
	switch name {
	case ".DS_Store", "Thumbs.db", "ehthumbs.db", "desktop.ini":
		return true
	}
	return strings.HasPrefix(name, "._")
}

// systemFiles is SystemFiles parsed, each named as built in.
var systemFiles = func() []pattern {
	var ps []pattern
	for _, s := range SystemFiles {
		pt, err := parsePattern(s)
		if err != nil {
			panic(err)
		}
		pt.text += " (a system file: !" + s + " in " + IgnoreFile + " keeps it)"
		ps = append(ps, pt)
	}
	return ps
}()

// maxIgnoreFile bounds what of an IgnoreFile is read.
const maxIgnoreFile = 64 << 10

// WithSystemFiles returns x with SystemFiles added before its patterns
// (which can bring one back).
func (x Exclusion) WithSystemFiles() Exclusion {
	x.patterns = slices.Concat(systemFiles, x.patterns)
	return x
}

// WithIgnoreFile returns x with SystemFiles and the patterns of the
// IgnoreFile at the top of the folder dir added (before x's), SystemFiles
// alone when there is none. A pattern it cannot use is ErrBadPattern,
// naming the file and the line.
func (x Exclusion) WithIgnoreFile(dir string) (Exclusion, error) {
	p := filepath.Join(dir, IgnoreFile)
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return x.WithSystemFiles(), nil
	}
	if err != nil {
		return x, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxIgnoreFile+1))
	switch {
	case err != nil:
		return x, fmt.Errorf("read %s: %w", p, err)
	case len(b) > maxIgnoreFile:
		return x, fmt.Errorf("%w: %s is over %d KiB (it holds patterns, one a line)", ErrBadPattern, p, maxIgnoreFile>>10)
	}
	var file []pattern
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "", strings.HasPrefix(line, "#"):
			continue
		}
		pt, err := parsePattern(line)
		if err != nil {
			return x, fmt.Errorf("%s, line %d: %w", p, i+1, err)
		}
		pt.text = fmt.Sprintf("%s (%s, line %d)", pt.text, IgnoreFile, i+1)
		file = append(file, pt)
	}
	x.patterns = slices.Concat(systemFiles, file, x.patterns)
	return x, nil
}
