//go:build !unix

package node

import "errors"

// freeBytes is unknown here; callers fall back to a fixed budget.
func freeBytes(string) (int64, error) { return 0, errors.New("free space unknown on this system") }
