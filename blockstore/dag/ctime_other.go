//go:build !linux && !darwin

package dag

import (
	"io/fs"
	"time"
)

// changeTime is the modification time where the system keeps no inode
// change time kith reads (Windows): a file whose time was set back and
// whose size did not change is then taken as unchanged.
func changeTime(st fs.FileInfo) time.Time { return st.ModTime() }
