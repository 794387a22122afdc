package service

import (
	"unsafe"

	"golang.org/x/sys/windows"
)

var (
	kernel32            = windows.NewLazySystemDLL("kernel32.dll")
	user32              = windows.NewLazySystemDLL("user32.dll")
	getConsoleWindow    = kernel32.NewProc("GetConsoleWindow")
	getConsoleProcesses = kernel32.NewProc("GetConsoleProcessList")
	showWindow          = user32.NewProc("ShowWindow")
)

// HideConsole hides the console window Windows opened for the daemon when
// it started from the Run key at login, so that no window sits on the
// desktop (closing it would stop the daemon). A console the daemon shares
// with others, a terminal it was started from, stays as it is.
func HideConsole() {
	if getConsoleWindow.Find() != nil || getConsoleProcesses.Find() != nil || showWindow.Find() != nil {
		return
	}
	hwnd, _, _ := getConsoleWindow.Call()
	if hwnd == 0 {
		return
	}
	var pids [2]uint32
	n, _, _ := getConsoleProcesses.Call(uintptr(unsafe.Pointer(&pids[0])), uintptr(len(pids)))
	if n != 1 {
		return // a terminal's console: its shell is attached too
	}
	showWindow.Call(hwnd, windows.SW_HIDE)
}
