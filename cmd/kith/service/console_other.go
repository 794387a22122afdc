//go:build !windows

package service

// HideConsole does nothing: only Windows opens a console window for a
// daemon started at login.
func HideConsole() {}
