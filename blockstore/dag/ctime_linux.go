package dag

import (
	"io/fs"
	"syscall"
	"time"
)

// changeTime is when the file's inode last changed (its content, its
// name, its mode): a time no tool can set back, unlike the modification
// time (touch -d, cp -p, tar and rsync set that one).
func changeTime(st fs.FileInfo) time.Time {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return time.Unix(s.Ctim.Unix())
	}
	return st.ModTime()
}
