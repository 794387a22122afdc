package dag

import (
	"io/fs"
	"syscall"
	"time"
)

// changeTime is when the file's inode last changed (see the Linux one).
func changeTime(st fs.FileInfo) time.Time {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return time.Unix(s.Ctimespec.Unix())
	}
	return st.ModTime()
}
