#!/usr/bin/env bash
# Runs every fuzz target of the module for FUZZTIME each (default 10s);
# `make fuzz` and .ci/run both call it. The targets are found in the source
# (every `func FuzzX(f *testing.F)` in a tracked _test.go file), so a new
# one is fuzzed by both without being listed anywhere. Go fuzzes one target
# per invocation, hence the loop. All targets run; the exit status is 1 if
# any failed (Go writes the failing input under the package's testdata/fuzz).
#
#   .ci/fuzz.sh          fuzz every target
#   .ci/fuzz.sh -l       list them, as "package target"
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
fuzztime=${FUZZTIME:-10s}

targets() {
  git grep -n -E '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' -- '*_test.go' |
    sed -E 's|^(.*)/[^/]*_test\.go:[0-9]+:func (Fuzz[A-Za-z0-9_]*).*|./\1 \2|' | sort
}

if [ "${1:-}" = "-l" ]; then
  targets
  exit 0
fi

failed=""
while read -r pkg name; do
  echo "== fuzz $pkg $name ($fuzztime)"
  if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$pkg" </dev/null; then
    failed="$failed $pkg.$name"
  fi
done < <(targets)
if [ -n "$failed" ]; then
  echo "fuzz targets that failed:$failed"
  exit 1
fi
