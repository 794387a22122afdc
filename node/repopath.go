package node

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"runtime"
	"strings"
)

// DefaultRepoPath is the repo folder used when none is given: $KITH_PATH,
// else the platform's usual folder (RepoPathFor).
func DefaultRepoPath() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil && os.Getenv("KITH_PATH") == "" {
		return "", fmt.Errorf("find the home folder for the repo (set KITH_PATH): %w", err)
	}
	return RepoPathFor(runtime.GOOS, home, os.Getenv, func(p string) bool {
		_, err := os.Stat(p)
		// A folder that cannot be examined may hold a repo: better to fail
		// on it, clearly, than to start an empty repo elsewhere.
		return !errors.Is(err, fs.ErrNotExist)
	})
}

// RepoPathFor decides where the repo is on goos, for a user whose home
// folder is home: $KITH_PATH when set; else ~/.kith when it exists (where
// every kith before this one put it, so nobody loses a repo); else the
// platform's folder for an application's data: ~/.kith on Linux and other
// Unix systems, ~/Library/Application Support/kith on macOS,
// %LocalAppData%\kith on Windows. getenv and exists stand for the
// process's environment and the file system, so that every platform's
// choice can be tested on any.
func RepoPathFor(goos, home string, getenv func(string) string, exists func(string) bool) (string, error) {
	if p := getenv("KITH_PATH"); p != "" {
		return p, nil
	}
	if home == "" {
		return "", errors.New("find the home folder for the repo: it is not set (set KITH_PATH)")
	}
	legacy := joinFor(goos, home, ".kith")
	if exists(legacy) {
		return legacy, nil
	}
	switch goos {
	case "darwin", "ios":
		return joinFor(goos, home, "Library", "Application Support", "kith"), nil
	case "windows":
		base := getenv("LOCALAPPDATA")
		if base == "" {
			base = joinFor(goos, home, "AppData", "Local")
		}
		return joinFor(goos, base, "kith"), nil
	}
	return legacy, nil
}

// RepoPathHelp says where the repo is by default on each platform, for
// --help texts.
const RepoPathHelp = `$KITH_PATH when it is set, else
  Linux    ~/.kith
  macOS    ~/Library/Application Support/kith
  Windows  %LocalAppData%\kith
and ~/.kith on any system where that folder already exists.`

// joinFor joins path elements with goos's separator (filepath.Join does
// so only for the platform it runs on).
func joinFor(goos string, elem ...string) string {
	if goos != "windows" {
		return path.Join(elem...)
	}
	var b strings.Builder
	for i, e := range elem {
		e = strings.TrimRight(e, `\/`)
		if i > 0 {
			b.WriteByte('\\')
			e = strings.TrimLeft(e, `\/`)
		}
		b.WriteString(e)
	}
	return b.String()
}
