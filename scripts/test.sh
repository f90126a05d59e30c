#!/usr/bin/env bash
# Runs the whole test suite: formatting, vet, staticcheck and every Go test.
# Tests that need real programs (Debian mb2md, Perl Date::Parse, faketime, Dovecot) skip with a
# message when those are missing; .ci/run installs them so that they always run in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
unformatted=$(gofmt -l cmd internal scripts)
if [ -n "$unformatted" ]; then
	echo "gofmt needed on:" >&2
	echo "$unformatted" >&2
	exit 1
fi
go vet ./...
# the portable (non-assembly) build of the separator search must keep compiling
go vet -tags purego ./internal/mbox
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
go test -count=1 "$@" ./...
