package api

import "path/filepath"

// Overlap reports whether the folders a and b (absolute, clean) are the
// same or one is inside the other: a folder shared as it changes (share
// --watch) and one following a group's version (get --follow) may not.
func Overlap(a, b string) bool {
	in := func(p, dir string) bool {
		rel, err := filepath.Rel(dir, p)
		return err == nil && filepath.IsLocal(rel)
	}
	return in(a, b) || in(b, a)
}
