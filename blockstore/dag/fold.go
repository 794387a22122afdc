package dag

import (
	"errors"
	"fmt"
	"path"
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

// caseClash is why the entry name cannot be written in the folder dir (a
// slash path in the DAG) where the names of written were written: one of
// them differs from it only in case, and the file system takes them as
// one (nil when none does).
func caseClash(written map[string]string, name, dir string) error {
	other, ok := written[FoldCase(name)]
	if !ok || other == name {
		return nil
	}
	return fmt.Errorf("%w: %s is there already, and this file system does not tell them apart", ErrCaseClash, path.Join(dir, other))
}
