// Package fstest helps tests with files and file systems: it writes a
// tree of files from a map (WriteFiles), and mounts file systems users'
// folders live on that behave unlike this machine's own: exFAT (a memory
// stick's, which, as macOS's and Windows' by default, does not tell names
// apart by case, and keeps no permission bits). Mounting needs Linux and
// root.
package fstest
