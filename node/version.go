package node

import (
	"regexp"
	"runtime/debug"
	"strings"
)

// devVersion is what a kith built without a version says.
const devVersion = "0.1.0-dev"

// Version is kith's version as set at build time with
//
//	-ldflags "-X github.com/kith-p2p/kith/node.Version=v1.2.3"
//
// (`make dist` sets it from `git describe`); BuildVersion is what to show.
var Version = devVersion

// BuildVersion is kith's version: the one set at build time; else the
// module's, which `go install github.com/kith-p2p/kith/cmd/kith@v1.2.3`
// records; else 0.1.0-dev.
func BuildVersion() string {
	if Version != devVersion {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && isRelease(bi.Main.Version) {
		return bi.Main.Version
	}
	return Version
}

// pseudoVersion matches the end of a Go pseudo-version
// (v0.0.0-20261202101500-b5c2d27f0a1b): what Go records for a build from a
// commit without a tag, which says less than "0.1.0-dev, commit b5c2d27".
var pseudoVersion = regexp.MustCompile(`\d{14}-[0-9a-f]{12}(\+incompatible)?$`)

// isRelease says whether a module version names a tagged release.
func isRelease(v string) bool {
	return strings.HasPrefix(v, "v") && !strings.Contains(v, "+dirty") && !pseudoVersion.MatchString(v)
}
