#!/usr/bin/env bash
# Regenerates cmd/mb2md/default.pgo, the CPU profile that `go build ./cmd/mb2md` uses for
# profile-guided optimisation (Go picks up default.pgo in the main package's directory by
# itself). It generates the benchmark mbox (50,000 messages, 200 MiB, seed 1, with flags, as
# scripts/bench.sh does) and profiles BenchmarkConvert (default mode and --compat) on it.
# Run it after larger changes to the conversion path; a stale profile still builds, it only
# optimises less. Measured with scripts/bench.sh: about 12% less user CPU with the profile.
#
# Usage: scripts/pgo.sh [--dir DIR]   (DIR: where the input goes; default /dev/shm, else TMPDIR)
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=/dev/shm
if [[ ${1:-} == --dir ]]; then
	DIR=${2:?--dir needs a directory}
elif [[ $# -gt 0 ]]; then
	sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2
	exit 2
fi
[[ -d $DIR && -w $DIR ]] || DIR=${TMPDIR:-/tmp}
WORK=$(mktemp -d "$DIR/mb2md-pgo.XXXXXX")
trap 'rm -rf -- "$WORK"' EXIT
go run ./scripts/genmbox -n 50000 --size-mb 200 --seed 1 --flags -o "$WORK/in.mbox"
MB2MD_BENCH_MBOX="$WORK/in.mbox" go test -run '^$' -bench '^BenchmarkConvert$' -benchtime 6x \
	-cpuprofile "$WORK/cpu.pprof" -o "$WORK/convert.test" ./internal/convert
cp "$WORK/cpu.pprof" cmd/mb2md/default.pgo
echo "pgo.sh: wrote cmd/mb2md/default.pgo ($(stat -c %s cmd/mb2md/default.pgo) bytes)" >&2
