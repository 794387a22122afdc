//go:build unix

package main_test

import "syscall"

// mkfifo makes a named pipe (the stand-in browser's handshake).
func mkfifo(path string) error { return syscall.Mkfifo(path, 0o600) }
