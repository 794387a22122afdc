package dag

import (
	"errors"
	"strings"
	"unicode"
)

// ErrCaseClash matches (with errors.Is) the error for an entry that a
// file system which does not tell names apart by case (macOS's, Windows',
// FAT and exFAT) cannot hold beside another one whose name differs only
// in case: one would be written over the other.
var ErrCaseClash = errors.New("names differ only in case")

// FoldCase is the form two names (or slash paths) that differ only in case
// share, as strings.EqualFold compares them: each letter as the least of
// its case orbit.
func FoldCase(name string) string {
	return strings.Map(func(r rune) rune {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		return least
	}, name)
}
