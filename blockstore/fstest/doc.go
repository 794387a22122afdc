// Package fstest mounts, for tests, file systems users' folders live on
// that behave unlike this machine's own: exFAT (a memory stick's, which,
// as macOS's and Windows' by default, does not tell names apart by case,
// and keeps no permission bits). Mounting needs Linux and root.
package fstest
