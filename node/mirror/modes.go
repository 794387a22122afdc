package mirror

import (
	"io/fs"
	"os"
)

// A folder on a file system that keeps no permission bits (FAT and exFAT,
// as on a memory stick or an SD card; a network share mounted without
// them) shows every file and folder as rwxrwxrwx. Shared as they are, those
// modes would make every device's copy writable by anyone: its modes are
// shared as not known (EntryMeta.Mode 0), and a device that applies them
// gives such an entry its time only, keeping the mode it has (Syncthing
// has such folders ignore permissions). Nothing is written to find out
// (an add leaves what it reads as it was): a folder whose every entry,
// and itself, reads rwxrwxrwx is taken as such, since no one sets those
// modes on everything.

// openToAll reports whether the folder at dir and every entry of m read
// rwxrwxrwx (see above).
func openToAll(dir string, m Meta) bool {
	st, err := os.Stat(dir)
	if err != nil || st.Mode().Perm() != fs.ModePerm || len(m) == 0 {
		return false
	}
	for _, em := range m {
		if em.Mode != uint32(fs.ModePerm) {
			return false
		}
	}
	return true
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
