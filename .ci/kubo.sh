#!/usr/bin/env bash
# Builds Kubo (the reference IPFS daemon, used as a public DHT node by the
# NAT tests in cmd/kith/internet) into DIR/ipfs, unless a Kubo of the same
# version is already there. Nothing of Kubo is committed: this builds it
# from the Go module proxy in a throwaway module. Prints the binary's path.
#
#   .ci/kubo.sh DIR
set -euo pipefail
export PATH=/usr/local/go/bin:$PATH
version=0.39.0
# Kubo v0.39.0 does not build with Go 1.26; the toolchain comes from the
# module proxy like any module.
toolchain=go1.25.5
dir=${1:?usage: .ci/kubo.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
bin=$dir/ipfs
if [ -x "$bin" ] && "$bin" version 2>/dev/null | grep -q "version $version\$"; then
  echo "$bin"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
cat >go.mod <<MOD
module kithci/kubo

go 1.25

require github.com/ipfs/kubo v$version
MOD
# Explicit versions only: the proxy refuses version lists for some of
# Kubo's dependencies, and -mod=mod lets the build fill go.sum from the
# versions Kubo's own go.mod names.
export GOTOOLCHAIN=$toolchain GOFLAGS="-mod=mod -buildvcs=false"
go build -trimpath -o "$bin.tmp" github.com/ipfs/kubo/cmd/ipfs >&2
mv "$bin.tmp" "$bin"
"$bin" version >&2
echo "$bin"
