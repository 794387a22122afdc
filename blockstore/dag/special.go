package dag

import (
	"io/fs"
	"sync"
)

// A special file (a socket, a named pipe, a device) inside a folder holds
// no content to add: OpenPath and Fingerprint leave it out, as rsync, git
// and Syncthing do, rather than fail the folder for an ssh control socket
// or an editor's server socket. One named as the path itself is refused.

// maxSkippedNamed is how many skipped files a Skipped names; beyond it, it
// counts them.
const maxSkippedNamed = 20

// SkippedFile is a special file a walk left out, and its kind (KindName).
type SkippedFile struct {
	Path string
	Kind string
}

// Skipped gathers the special files an import left out (Exclusion.Reporting):
// the first few by path, all of them in the count. Safe for concurrent use.
type Skipped struct {
	mu    sync.Mutex
	count int
	named []SkippedFile
}

// Files returns the first special files left out (at most 20) and how many
// there were in all.
func (s *Skipped) Files() ([]SkippedFile, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SkippedFile(nil), s.named...), s.count
}

func (s *Skipped) add(p string, mode fs.FileMode) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count++
	if len(s.named) < maxSkippedNamed {
		s.named = append(s.named, SkippedFile{Path: p, Kind: KindName(mode)})
	}
}

// Reporting returns x, telling s of each special file OpenPath leaves out.
func (x Exclusion) Reporting(s *Skipped) Exclusion {
	x.skipped = s
	return x
}

// special reports whether mode is neither a file, a folder nor a symbolic
// link.
func special(mode fs.FileMode) bool {
	return !mode.IsDir() && !mode.IsRegular() && mode&fs.ModeSymlink == 0
}

// kindOf names a special file's kind in a sentence ("a socket").
func kindOf(mode fs.FileMode) string {
	k := KindName(mode)
	if mode&(fs.ModeSocket|fs.ModeNamedPipe|fs.ModeDevice) != 0 {
		return "a " + k
	}
	return k
}

// KindName names a special file's kind: "socket", "named pipe", "device"
// (else "mode" and its mode).
func KindName(mode fs.FileMode) string {
	switch {
	case mode&fs.ModeSocket != 0:
		return "socket"
	case mode&fs.ModeNamedPipe != 0:
		return "named pipe"
	case mode&fs.ModeDevice != 0:
		return "device"
	default:
		return "mode " + mode.String()
	}
}
