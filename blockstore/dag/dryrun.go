package dag

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
)

// Plan is what an add of a path would read (DryRun): counts and bytes,
// and what it would leave out and why.
type Plan struct {
	Files, Folders, Links int
	Bytes                 int64
	// Left names what the patterns leave out (a folder once, not what it
	// holds), by slash path from the top, with the pattern; Special, the
	// sockets, named pipes and devices; Repo, kith's repo when the folder
	// holds it.
	Left    []LeftOut
	Special []SkippedFile
	Repo    string
}

// LeftOut is one entry an add leaves out: its slash path from the top of
// what is added (a folder's ends in /), and the pattern that does it.
type LeftOut struct {
	Path    string
	Pattern string
}

// DryRun walks what OpenPath(p, x) would read (the folder's IgnoreFile
// included) without reading any file, and says what an add of it would
// hold and leave out. DryRunWrapped does the same for p as an entry of
// OpenPaths' folder (its patterns match from that folder's top, and p's
// IgnoreFile is not read).
func DryRun(p string, x Exclusion) (Plan, error) { return dryRun(p, "", x) }

// DryRunWrapped is DryRun for p as an entry of OpenPaths' folder.
func DryRunWrapped(p string, x Exclusion) (Plan, error) {
	return dryRun(p, filepath.Base(filepath.Clean(p)), x)
}

// dryRun is DryRun of p, at the slash path top inside what is added (""
// for the top itself: then p's IgnoreFile counts).
func dryRun(p, top string, x Exclusion) (Plan, error) {
	var plan Plan
	st, err := os.Stat(p)
	if err != nil {
		return plan, err
	}
	if !st.IsDir() {
		if special(st.Mode()) {
			return plan, fmt.Errorf("%s is not a file, a folder or a symbolic link (%s): it holds nothing to add", p, kindOf(st.Mode()))
		}
		plan.Files, plan.Bytes = 1, st.Size()
		return plan, nil
	}
	if top == "" {
		if x, err = x.WithIgnoreFile(p); err != nil {
			return plan, err
		}
	} else {
		x = x.WithSystemFiles() // as OpenPaths reads it
	}
	plan.Folders = 1
	var walk func(dir, rel string) error
	walk = func(dir, rel string) error {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, e := range ents {
			r := path.Join(rel, e.Name())
			full := filepath.Join(dir, e.Name())
			if pat, ok := x.Which(r, e.IsDir()); ok {
				if e.IsDir() {
					r += "/"
				}
				plan.Left = append(plan.Left, LeftOut{Path: r, Pattern: pat})
				continue
			}
			if x.Leaves(dir, rel, e) {
				plan.Repo = full // the only folder left out by identity
				continue
			}
			info, err := e.Info()
			if err != nil {
				return err
			}
			switch mode := info.Mode(); {
			case mode.IsDir():
				plan.Folders++
				if err := walk(full, r); err != nil {
					return err
				}
			case mode&fs.ModeSymlink != 0:
				plan.Links++
			case special(mode):
				plan.Special = append(plan.Special, SkippedFile{Path: full, Kind: KindName(mode)})
			default:
				plan.Files++
				plan.Bytes += info.Size()
			}
		}
		return nil
	}
	return plan, walk(p, top)
}
