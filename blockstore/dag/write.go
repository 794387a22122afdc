package dag

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"

	uio "github.com/ipfs/boxo/ipld/unixfs/io"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"

	"github.com/kith-p2p/kith/blockstore"
)

// WriteOption changes how WriteTo writes.
type WriteOption func(*writeOpts)

type writeOpts struct {
	overwrite  bool
	renameOver bool
	noSweep    bool
	skip       Exclusion
	unwritable func(rel string, why error)
}

// WithOverwrite lets WriteTo replace an existing file or folder at the
// output path. The old one is removed only after the new content is fully
// written, just before the final rename.
func WithOverwrite(ok bool) WriteOption {
	return func(o *writeOpts) { o.overwrite = ok }
}

// WithRenameOver has WriteTo put a file or a symbolic link in place with
// one rename over what is at the output path: a file or link there is
// replaced atomically (readers see the old one or the new one), a folder
// never (the rename fails), whatever appeared there meanwhile.
func WithRenameOver() WriteOption {
	return func(o *writeOpts) { o.renameOver = true }
}

// WithoutSweep has WriteTo leave the leftovers of interrupted writes in the
// output's folder to the caller, who writes many entries of one folder and
// calls SweepTemps once for it: looking for them at every write lists the
// folder each time.
func WithoutSweep() WriteOption {
	return func(o *writeOpts) { o.noSweep = true }
}

// WithExclusion has WriteTo leave out of a folder the entries x excludes
// by their names (Exclusion.Excludes), with everything in them: nothing of
// them is read, so a store that lacks them (a fetch that left them out)
// serves. The folder written is otherwise the DAG's.
func WithExclusion(x Exclusion) WriteOption {
	return func(o *writeOpts) { o.skip = x }
}

// FilesWritten is what WriteTo with WithExclusion(x) writes of the folder
// root: the CIDs of its files and their bytes (each time a file is
// written). Only the folders on the way and each entry's first block are
// read (what a fetch with fetch.OnlyFiles makes present).
func FilesWritten(ctx context.Context, bs blockstore.Blockstore, root cid.Cid, x Exclusion) (map[cid.Cid]bool, int64, error) {
	files := map[cid.Cid]bool{}
	var size int64
	var walk func(c cid.Cid, rel string) error
	walk = func(c cid.Cid, rel string) error {
		es, err := LsLinks(ctx, bs, c)
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		for _, e := range es {
			switch {
			case x.Excludes(path.Join(rel, e.Name), e.Type == TypeDir):
			case e.Type == TypeDir:
				if err := walk(e.Cid, path.Join(rel, e.Name)); err != nil {
					return err
				}
			case e.Type == TypeFile:
				files[e.Cid] = true
				size += int64(e.Size)
			}
		}
		return nil
	}
	return files, size, walk(root, ".")
}

// SweepTemps removes from dir the leftovers of interrupted writes of any
// of its entries (a killed daemon's), those being written now excepted.
func SweepTemps(dir string) { removeStaleTemps(dir, ".*.kith-tmp-*") }

// WriteTo writes the file or folder tree at c to outPath, byte for byte.
//
// Everything is first written under a hidden temporary name next to
// outPath and renamed into place at the end, so an interrupted or failed
// WriteTo never leaves a partial file or folder under outPath (the temporary
// one is removed on error). outPath must not exist unless WithOverwrite(true)
// is given; the error then matches fs.ErrExist. Entry names that could escape
// the output folder fail with an error matching ErrUnsafeName that names the
// entry, before anything is written for it. Files are created 0644 and
// folders 0755 (less the umask for entries inside a folder), symbolic links
// as links to the target they hold (never followed); no metadata is
// restored because kith's DAGs carry none. progress, if not nil, is called
// with the cumulative number of content bytes written. Missing blocks give
// errors matching blockstore.ErrNotFound.
func WriteTo(ctx context.Context, bs blockstore.Blockstore, c cid.Cid, outPath string, progress func(bytes int64), opts ...WriteOption) error {
	var o writeOpts
	for _, opt := range opts {
		opt(&o)
	}
	rd := readDAG{bs}
	nd, err := rd.Get(ctx, c)
	if err != nil {
		return err
	}
	typ, _, err := nodeInfo(nd)
	if err != nil {
		return err
	}
	outPath = filepath.Clean(outPath)
	if o.renameOver && typ == TypeDir {
		return fmt.Errorf("%s: a folder is not renamed over what is there", outPath)
	}
	if err := checkTarget(outPath, o.overwrite || o.renameOver); err != nil {
		return err
	}
	parent, base := filepath.Split(outPath)
	if parent == "" {
		parent = "."
	}
	pattern := "." + base + ".kith-tmp-*"
	if typ == TypeSymlink && !o.renameOver {
		// One system call that creates it whole or not at all.
		return writeSymlink(linkTarget(nd), outPath, o.overwrite)
	}
	if !o.noSweep {
		removeStaleTemps(parent, pattern)
	}
	if typ == TypeSymlink {
		return renameSymlinkOver(linkTarget(nd), parent, base, outPath)
	}
	w := &treeWriter{ctx: ctx, rd: rd, progress: progress, skip: o.skip, unwritable: o.unwritable}

	var tmp string
	defer func() { activeTemps.Delete(filepath.Clean(tmp)) }()
	if typ == TypeDir {
		if tmp, err = os.MkdirTemp(parent, pattern); err != nil {
			return OutputNameErr(outPath, err)
		}
		activeTemps.Store(filepath.Clean(tmp), true)
		if err = os.Chmod(tmp, 0o755); err == nil {
			err = w.writeDir(nd, tmp, ".")
		}
	} else {
		var f *os.File
		if f, err = os.CreateTemp(parent, pattern); err != nil {
			return OutputNameErr(outPath, err)
		}
		tmp = f.Name()
		activeTemps.Store(filepath.Clean(tmp), true)
		if err = f.Chmod(0o644); err == nil {
			err = w.copyFile(nd, f)
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if errors.Is(err, syscall.EFBIG) {
			err = fmt.Errorf("%s: %w", outPath, errTooBig)
		}
	}
	if err == nil {
		err = w.ctx.Err()
	}
	switch {
	case err == nil && o.renameOver:
		err = os.Rename(tmp, outPath)
	case err == nil:
		err = replace(tmp, outPath, o.overwrite)
	}
	if err != nil {
		os.RemoveAll(tmp)
		return err
	}
	return nil
}

// checkTarget refuses an existing outPath unless overwriting.
func checkTarget(outPath string, overwrite bool) error {
	if overwrite {
		return nil
	}
	if _, err := os.Lstat(outPath); err == nil {
		return fmt.Errorf("%s: %w (choose another path or allow overwriting)", outPath, fs.ErrExist)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// replace moves tmp to outPath. The existence check is repeated because the
// output may have appeared while we were writing, and rename would silently
// replace a file.
func replace(tmp, outPath string, overwrite bool) error {
	if err := checkTarget(outPath, overwrite); err != nil {
		return err
	}
	if overwrite {
		// rename cannot replace a non-empty folder, or a file by a folder.
		if err := os.RemoveAll(outPath); err != nil {
			return err
		}
	}
	return os.Rename(tmp, outPath)
}

// writeSymlink makes outPath a symbolic link to target. It is never
// followed, so whatever the target names (another machine's path,
// somewhere outside the output folder) nothing is written there.
func writeSymlink(target, outPath string, overwrite bool) error {
	if overwrite {
		if err := os.RemoveAll(outPath); err != nil {
			return err
		}
	}
	if err := os.Symlink(target, outPath); err != nil {
		return fmt.Errorf("create the symbolic link %s: %w", outPath, symlinkErr(err))
	}
	return nil
}

// renameSymlinkOver makes a link to target under a temporary name in
// parent, then renames it over outPath (WithRenameOver).
func renameSymlinkOver(target, parent, base, outPath string) error {
	tmp := filepath.Join(parent, fmt.Sprintf(".%s.kith-tmp-%d", base, rand.Uint64()))
	activeTemps.Store(filepath.Clean(tmp), true)
	defer activeTemps.Delete(filepath.Clean(tmp))
	if err := os.Symlink(target, tmp); err != nil {
		return fmt.Errorf("create the symbolic link %s: %w", outPath, symlinkErr(err))
	}
	if err := os.Rename(tmp, outPath); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// errPrivilegeNotHeld is Windows' ERROR_PRIVILEGE_NOT_HELD: creating a
// symbolic link needs Developer Mode or an administrator there.
const errPrivilegeNotHeld = syscall.Errno(1314)

// symlinkErr is a failed symlink(2)'s error without the paths (the
// caller names the link, never by its temporary name), and what to do
// about it, where something can be done.
func symlinkErr(err error) error {
	if le := (*os.LinkError)(nil); errors.As(err, &le) {
		err = le.Err
	}
	if runtime.GOOS == "windows" && errors.Is(err, errPrivilegeNotHeld) {
		return fmt.Errorf("%w (Windows lets a user create symbolic links with Developer Mode on: Settings, System, For developers)", err)
	}
	return err
}

// treeWriter writes one DAG to disk.
type treeWriter struct {
	ctx      context.Context
	rd       readDAG
	progress func(int64)
	total    int64
	skip     Exclusion
	// unwritable, if set, is handed each entry the file system cannot
	// hold where it goes, which is then left out (WithUnwritable).
	unwritable func(rel string, why error)
}

// writeDir writes the entries of the folder node nd into the existing
// folder dst. rel is the entry's path inside the DAG, for error messages.
func (w *treeWriter) writeDir(nd ipld.Node, dst, rel string) error {
	dir, err := dirFromNode(w.rd, nd)
	if err != nil {
		return err
	}
	written := map[string]string{} // FoldCase(name) -> the name written
	return dir.ForEachLink(w.ctx, func(l *ipld.Link) (err error) {
		defer func() {
			if errors.Is(err, fs.ErrExist) {
				if why := caseClash(written, l.Name, rel); why != nil {
					err = cannotHold{why}
				}
			}
			var c cannotHold
			switch {
			case err == nil:
				written[FoldCase(l.Name)] = l.Name
			case errors.As(err, &c):
				err = w.leaveOut(path.Join(rel, l.Name), c.why)
			}
		}()
		if err := CheckName(l.Name); err != nil {
			return fmt.Errorf("folder %s: %w", rel, err)
		}
		childRel := path.Join(rel, l.Name)
		if w.skip.Excludes(childRel, false) {
			return nil // left out whatever it is: not read
		}
		child, err := w.rd.Get(w.ctx, l.Cid)
		if err != nil {
			return fmt.Errorf("%s: %w", childRel, err)
		}
		typ, _, err := nodeInfo(child)
		if err != nil {
			return fmt.Errorf("%s: %w", childRel, err)
		}
		if typ == TypeDir && w.skip.Excludes(childRel, true) {
			return nil // a folder left out (a pattern with a trailing slash)
		}
		p := filepath.Join(dst, l.Name)
		if typ == TypeSymlink {
			// Like O_EXCL below, symlink(2) never replaces what exists.
			if err := os.Symlink(linkTarget(child), p); err != nil {
				if errors.Is(err, fs.ErrExist) {
					return fmt.Errorf("%s: create the symbolic link: %w", childRel, symlinkErr(err))
				}
				// A file system without links (FAT, exFAT), a user
				// Windows lets make none: the rest can be had.
				return cannotHold{fmt.Errorf("%w: %w", ErrNoSymlink, symlinkErr(err))}
			}
			return nil
		}
		if typ == TypeDir {
			// Mkdir (not MkdirAll) fails on a duplicate name instead of merging.
			if err := os.Mkdir(p, 0o755); err != nil {
				if why := nameRefused(l.Name, err); why != nil {
					return cannotHold{why}
				}
				return fmt.Errorf("%s: %w", childRel, err)
			}
			return w.writeDir(child, p, childRel)
		}
		// O_EXCL: a DAG listing the same name twice must not let the second
		// entry silently replace the first.
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			if why := nameRefused(l.Name, err); why != nil {
				return cannotHold{why}
			}
			return fmt.Errorf("%s: %w", childRel, err)
		}
		before := w.total
		err = w.copyFile(child, f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if errors.Is(err, syscall.EFBIG) {
			// Larger than the file system holds (FAT32: 4 GiB): what
			// was written of it goes, and the rest can be had.
			os.Remove(p)
			if w.total = before; w.progress != nil {
				w.progress(w.total) // what stays written
			}
			return cannotHold{errTooBig}
		}
		if err != nil {
			return fmt.Errorf("%s: %w", childRel, err)
		}
		return nil
	})
}

// copyFile streams the file node nd into f, and checks that the file's
// blocks held as many bytes as its root claims: a root that claims more
// (a hostile or broken DAG) must not pass for a whole file.
func (w *treeWriter) copyFile(nd ipld.Node, f *os.File) error {
	r, err := uio.NewDagReader(w.ctx, nd, w.rd)
	if err != nil {
		return err
	}
	defer r.Close()
	n, err := io.Copy(&progressWriter{w: f, tw: w}, r)
	if err != nil {
		return err
	}
	if claimed := r.Size(); uint64(n) != claimed {
		return fmt.Errorf("%w: the file claims %d bytes but its blocks hold %d", ErrInconsistent, claimed, n)
	}
	return nil
}

// ErrInconsistent means a DAG's nodes disagree with each other (a file
// whose root claims a size its leaves do not have).
var ErrInconsistent = errors.New("content is inconsistent")

// HoldTemp names a temporary file in dir for base, as a write's (SweepTemps
// removes one left over by a crash), that no sweep removes until release:
// a file kept aside there for a moment (node/mirror moves one that way).
func HoldTemp(dir, base string) (tmp string, release func()) {
	tmp = filepath.Join(dir, fmt.Sprintf(".%s.kith-tmp-%d", base, rand.Uint64()))
	activeTemps.Store(filepath.Clean(tmp), true)
	return tmp, func() { activeTemps.Delete(filepath.Clean(tmp)) }
}

// activeTemps are the temporary outputs being written now, by this
// process; any other file named like one is left over from an interrupted
// write (a killed daemon) and is removed before the next write to the
// same path.
var activeTemps sync.Map

// removeStaleTemps removes leftovers of interrupted writes matching
// pattern in dir.
func removeStaleTemps(dir, pattern string) {
	matches, _ := filepath.Glob(filepath.Join(dir, pattern))
	for _, m := range matches {
		if _, busy := activeTemps.Load(filepath.Clean(m)); !busy {
			os.RemoveAll(m)
		}
	}
}

// progressWriter counts bytes on their way to disk.
type progressWriter struct {
	w  io.Writer
	tw *treeWriter
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.tw.total += int64(n)
	if p.tw.progress != nil && n > 0 {
		p.tw.progress(p.tw.total)
	}
	return n, err
}
