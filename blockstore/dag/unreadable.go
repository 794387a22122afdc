package dag

import (
	"io/fs"
	"os"
	"sync"
	"time"
)

// unreadableFile stands, in a folder opened from disk (OpenPath), for a
// regular file that could not be opened (no permission, held by another
// program), or a folder that could not be listed. An import links such a
// file from the earlier version when Reuse finds it unchanged; otherwise
// it fails on it with its error, unless the Importer was given
// WithUnreadable. It keeps the entry's details from its folder's listing.
// It is no files.Directory even for a folder: nothing in it is read.
type unreadableFile struct {
	path string
	stat fs.FileInfo
	err  error
}

func (u *unreadableFile) Read([]byte) (int, error) { return 0, u.err }
func (u *unreadableFile) Close() error             { return nil }
func (u *unreadableFile) Size() (int64, error) {
	if u.stat.IsDir() {
		return 0, nil
	}
	return u.stat.Size(), nil
}
func (u *unreadableFile) AbsPath() string    { return u.path }
func (u *unreadableFile) Stat() os.FileInfo  { return u.stat }
func (u *unreadableFile) Mode() os.FileMode  { return u.stat.Mode() }
func (u *unreadableFile) ModTime() time.Time { return u.stat.ModTime() }

// WithUnreadable has the importer go on past a file of a folder read from
// disk that it cannot open (no permission, held by another program), or a
// folder in it that it may not list, where Reuse says what the earlier
// version had: a file (folder) the earlier version has at that path is
// linked as it was there (shared as before), one it does not have is left
// out (never shared yet). report hears of
// each: its path from the top, the error, and whether it was linked. Where
// the earlier version's folder is not known (no Reuse, or its blocks are
// gone), such a file fails the import as without this option: leaving it
// out would say it was deleted.
func WithUnreadable(report func(where string, err error, asBefore bool)) ImportOption {
	return func(im *Importer) { im.unreadable = report }
}

// WithUnreadableLeftOut has the importer leave out every file of a folder
// read from disk that it cannot open or read to its end, whatever an
// earlier version had, and go on: for a folder shared for the first time,
// which nothing holds yet to be taken as deleted. report hears of each
// (asBefore is false). The version made holds, of each file, what it
// holds now, so that it may be reused (WithReuse) as any other.
func WithUnreadableLeftOut(report func(where string, err error, asBefore bool)) ImportOption {
	return func(im *Importer) { im.unreadable, im.leaveOut = report, true }
}

// Reuses reports whether opts have an import link an earlier version's
// unchanged files (WithReuse).
func Reuses(opts []ImportOption) bool {
	var im Importer
	for _, o := range opts {
		o(&im)
	}
	return im.reuse != nil
}

// Unread gathers the files and folders a folder opened from disk left out
// because they could not be opened or listed (Exclusion.LeavingUnreadable):
// the first few with why, all of them in the count. Safe for concurrent
// use.
type Unread struct {
	mu    sync.Mutex
	count int
	named []UnreadEntry
}

// UnreadEntry is one entry left out: its path from the top of what was
// added, and the error opening it.
type UnreadEntry struct {
	Path string
	Err  error
}

// Entries returns the first entries left out (at most 20) and how many
// there were in all.
func (u *Unread) Entries() ([]UnreadEntry, int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]UnreadEntry(nil), u.named...), u.count
}

func (u *Unread) add(where string, err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.count++
	if len(u.named) < maxSkippedNamed {
		u.named = append(u.named, UnreadEntry{Path: where, Err: err})
	}
}

// LeavingUnreadable returns x, leaving out of a folder it opens from disk
// each file that cannot be opened (no permission, held by another program)
// and each folder that cannot be listed, and telling u of them: for an add
// that streams what it reads (the reader knows no earlier version, so
// nothing is taken as deleted; WithUnreadableLeftOut is the importer's
// way).
func (x Exclusion) LeavingUnreadable(u *Unread) Exclusion {
	x.unread = u
	return x
}
