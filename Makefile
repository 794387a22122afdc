# Convenience targets; README.md and .ci/run hold the canonical commands.
.PHONY: build test bench vet fuzz dist

build:
	go build -o bin/kith ./cmd/kith

test:
	go test -race -count=1 -timeout 45m ./...

vet:
	gofmt -l $$(git ls-files '*.go')
	go vet ./...
	for t in linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64; do \
		GOOS=$${t%/*} GOARCH=$${t#*/} go vet ./... || exit 1; done

# Release archives for Linux, macOS and Windows (amd64, arm64) in dist/,
# with SHA256SUMS; TARGETS="linux/amd64 ..." builds only those.
# .ci/dist.sh says more.
dist:
	bash .ci/dist.sh $(TARGETS)

# Every fuzz target for FUZZTIME each (CI runs them for 30s); .ci/fuzz.sh
# finds them in the source.
FUZZTIME ?= 10s
fuzz:
	FUZZTIME=$(FUZZTIME) bash .ci/fuzz.sh

# Benchmarks behind the figures in BENCHMARKS.md (not run by CI: they need
# a quiet machine and several minutes).
bench:
	# Includes the Bitswap benchmarks against Kubo (KITH_KUBO, see
	# .ci/kubo.sh; skipped without it).
	go test -run '^$$' -bench . -benchtime 1x -count 5 -timeout 60m ./cmd/kith/
	# (WatchedChange and FollowedChange again, four changes each: the
	# interval case is a phase of a minute, so one change says little.)
	go test -run '^$$' -bench 'WatchedChange|FollowedChange' -benchtime 4x -count 1 -timeout 30m ./cmd/kith/
	go test -run '^$$' -bench 'Fetch|Latency' -benchtime 1x -count 3 -timeout 60m ./node/
	go test -run '^$$' -bench 'Group' -benchtime 1x -count 1 -timeout 60m ./node/
	go test -run '^$$' -bench 'GatewayFirstByte' -benchtime 1x -count 5 -timeout 60m ./node/
	go test -run '^$$' -bench 'FollowedFolder' -benchtime 3x -count 3 -timeout 30m ./node/
	go test -run '^$$' -bench . -count 3 -timeout 30m ./blockstore/dag/ ./protocol/fetch/ ./node/mirror/
	go test -run '^$$' -bench DirectWrite -benchtime 128x -count 4 ./blockstore/
	go test -run '^$$' -bench ShareRightAfterAJoin -benchtime 5x -count 2 ./protocol/group/net/
	go run ./protocol/group/sim/cmd/groupsim -n 1000,10000
	# Across NATs on the emulated internet: root, nftables and Kubo
	# (KITH_KUBO, see .ci/kubo.sh) needed.
	# (Fetch includes LANFetch: two daemons on a bridge, TCP / QUIC / both.)
	go test -run '^$$' -bench 'FirstByte|Reservation|Fetch' -benchtime 1x -count 5 -timeout 60m ./cmd/kith/internet/
	# The scale check: 1 and 4 GiB, 10,000 and 100,000 files (~10 GB of disk).
	go test -run '^$$' -bench 'LANScale' -benchtime 1x -count 1 -timeout 60m ./cmd/kith/internet/
	go test -run '^$$' -bench 'IdleTraffic' -benchtime 1x -count 1 -timeout 30m ./cmd/kith/internet/
