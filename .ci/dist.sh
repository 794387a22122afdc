#!/usr/bin/env bash
# Release archives (`make dist`): kith for Linux, macOS and Windows on amd64
# and arm64, each with README.md (and LICENSE when there is one), as
# dist/kith-VERSION-OS-ARCH.tar.gz (.zip for Windows), plus dist/SHA256SUMS.
# VERSION is `git describe --tags --always --dirty`, built into the binary
# (node.Version), so `kith version` prints it.
#
#   .ci/dist.sh                     every platform
#   .ci/dist.sh linux/amd64 ...     only these
#
# DIST names another output folder; VERSION sets the version.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH

version=${VERSION:-$(git describe --tags --always --dirty)}
out=${DIST:-dist}
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64)
fi

case "$version" in
  "" | *[!A-Za-z0-9._+-]*) echo "dist: version '$version' cannot be part of a file name" >&2; exit 1 ;;
esac
for t in "${targets[@]}"; do
  case "$t" in
    linux/amd64 | linux/arm64 | darwin/amd64 | darwin/arm64 | windows/amd64 | windows/arm64) ;;
    *) echo "dist: unknown target '$t' (use OS/ARCH: linux, darwin or windows; amd64 or arm64)" >&2; exit 1 ;;
  esac
  if [ "${t%/*}" = windows ] && ! command -v zip >/dev/null; then
    echo "dist: zip is needed for the Windows archives (apt-get install zip)" >&2; exit 1
  fi
done
if command -v sha256sum >/dev/null; then sha256=(sha256sum); else sha256=(shasum -a 256); fi
# GNU tar can leave the builder's user and file times out of the archive.
tarflags=()
if tar --version 2>/dev/null | grep -q GNU; then
  tarflags=(--owner=0 --group=0 --numeric-owner --sort=name)
fi

mkdir -p "$out"
out=$(cd "$out" && pwd)
# Only what this script makes: SHA256SUMS lists this run's archives.
rm -f "$out"/kith-*.tar.gz "$out"/kith-*.zip "$out"/SHA256SUMS
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
archives=()

for t in "${targets[@]}"; do
  os=${t%/*} arch=${t#*/}
  name=kith-$version-$os-$arch
  exe=kith
  [ "$os" = windows ] && exe=kith.exe
  echo "-- $name"
  mkdir -p "$stage/$name"
  CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath \
    -ldflags "-s -w -X github.com/kith-p2p/kith/node.Version=$version" \
    -o "$stage/$name/$exe" ./cmd/kith
  cp README.md "$stage/$name/"
  if [ -f LICENSE ]; then cp LICENSE "$stage/$name/"; fi
  if [ "$os" = windows ]; then
    (cd "$stage" && zip -qr "$out/$name.zip" "$name")
    archives+=("$name.zip")
  else
    tar -C "$stage" "${tarflags[@]}" -czf "$out/$name.tar.gz" "$name"
    archives+=("$name.tar.gz")
  fi
done

(cd "$out" && "${sha256[@]}" "${archives[@]}" >SHA256SUMS)
echo "dist: ${#archives[@]} archives and SHA256SUMS in $out"
