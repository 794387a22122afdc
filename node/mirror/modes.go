package mirror

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
)

// A folder on a file system that keeps no permission bits (FAT and exFAT,
// as on a memory stick or an SD card; a network share mounted without
// them) shows every file and folder as rwxrwxrwx. Shared as they are, those
// modes would make every device's copy writable by anyone: its modes are
// shared as not known (EntryMeta.Mode 0), and a device that applies them
// gives such an entry its time only, keeping the mode it has (Syncthing
// has such folders ignore permissions).

// keepsModes caches KeepsModes, by folder: the file system a path is on
// rarely changes, and each look writes a file there.
var keepsModes sync.Map

// KeepsModes reports whether the file system of the folder dir keeps the
// permission bits a file is given: a file made there for the look, made
// rw------- , still is. A folder that cannot be written in (nor looked at)
// is taken as keeping them.
func KeepsModes(dir string) bool {
	if v, ok := keepsModes.Load(dir); ok {
		return v.(bool)
	}
	// Named as the writes' temporary files are: swept if left by a crash.
	probe := filepath.Join(dir, fmt.Sprintf(".modes.kith-tmp-%d", rand.Uint64()))
	f, err := os.OpenFile(probe, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return true
	}
	f.Close()
	defer os.Remove(probe)
	if err := os.Chmod(probe, 0o600); err != nil {
		return true
	}
	st, err := os.Lstat(probe)
	if err != nil {
		return true
	}
	keeps := st.Mode().Perm() == 0o600
	keepsModes.Store(dir, keeps)
	return keeps
}

// WithoutModes is m with every entry's mode not known (0), its time kept:
// the meta of a folder on a file system that keeps no modes.
func (m Meta) WithoutModes() Meta {
	for p, em := range m {
		em.Mode = 0
		m[p] = em
	}
	return m
}
