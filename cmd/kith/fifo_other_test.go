//go:build !unix

package main_test

import "errors"

// mkfifo: no named pipes here (the tests that need them skip first).
func mkfifo(string) error { return errors.New("no named pipes on this system") }
