#!/usr/bin/env bash
# Whole-process benchmark of the mb2md converter.
#
# Usage: scripts/bench.sh [--messages N] [--size-mb M] [--runs R] [--dir DIR]
#                         [--disk DIR] [--single-mib N] [--plain] [--one-core] [--bin PATH]
#
#   --messages N    messages in the generated mbox (default 50000)
#   --size-mb M     its approximate size in MiB (default 200)
#   --runs R        measured runs of each tool (default 5)
#   --dir DIR       where the mbox and the outputs go; should be tmpfs (default /dev/shm)
#   --disk DIR      also one run of ours into a directory on a real disk, with the time
#                   of the sync after it (the durable time)
#   --single-mib N  size of the single-message test in MiB (default 1024; 0 skips it)
#   --plain         generate the mbox without --flags (no X-IMAPbase/X-UID/Status/...)
#   --one-core      run every tool on CPU 0 only (taskset -c 0), ours with GOMAXPROCS=1: the
#                   CPU each tool needs for the work itself, without the cost of handing
#                   messages between cores (the wall times then say nothing about ours)
#   --bin PATH      benchmark this mb2md binary instead of building ./cmd/mb2md
#
# It builds ./cmd/mb2md, ./scripts/genmbox and ./scripts/rusage, generates the mbox once
# (seed 1), then runs, R times each, in an order that rotates from one run to the next:
#   ours   mb2md -s FILE -d OUT --quiet
#   perl   Debian's /usr/bin/mb2md -s FILE -d OUT (HOME set to a temporary directory)
#   floor  tar -x of an uncompressed archive of the files ours wrote (made beforehand)
#   compat mb2md -s FILE -d OUT --quiet --compat (ours, byte-identical to Debian's output)
# each into a fresh output directory under DIR, deleted after the run. It measures wall,
# user, sys (in milliseconds) and peak RSS with scripts/rusage (getrusage of the child), or
# with /usr/bin/time (Debian package "time"; 10 ms steps) should that not build, and prints
# a Markdown report of the medians against the targets. It never fails on a timing: the
# numbers are printed, not asserted.
set -euo pipefail

usage() {
	sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'
}

die() {
	echo "bench.sh: error: $*" >&2
	exit 2
}

MESSAGES=50000
SIZE_MB=200
RUNS=5
DIR=/dev/shm
DISK=
SINGLE_MIB=1024
FLAGS=--flags
OURS_BIN=
ONE_CORE=0

while (($# > 0)); do
	case $1 in
	--messages | --size-mb | --runs | --dir | --disk | --single-mib | --bin)
		(($# >= 2)) || die "$1 needs a value"
		case $1 in
		--messages) MESSAGES=$2 ;;
		--size-mb) SIZE_MB=$2 ;;
		--runs) RUNS=$2 ;;
		--dir) DIR=$2 ;;
		--disk) DISK=$2 ;;
		--single-mib) SINGLE_MIB=$2 ;;
		--bin) OURS_BIN=$2 ;;
		esac
		shift 2
		;;
	--plain)
		FLAGS=
		shift
		;;
	--one-core)
		ONE_CORE=1
		shift
		;;
	-h | --help)
		usage
		exit 0
		;;
	*) die "unknown argument $1 (see --help)" ;;
	esac
done

[[ $MESSAGES =~ ^[0-9]+$ && $MESSAGES -gt 0 ]] || die "--messages $MESSAGES: want a positive integer"
[[ $SIZE_MB =~ ^[0-9]+([.][0-9]+)?$ ]] || die "--size-mb $SIZE_MB: want a number"
[[ $RUNS =~ ^[0-9]+$ && $RUNS -gt 0 ]] || die "--runs $RUNS: want a positive integer"
[[ $SINGLE_MIB =~ ^[0-9]+$ ]] || die "--single-mib $SINGLE_MIB: want a whole number of MiB"
[[ -d $DIR && -w $DIR ]] || die "--dir $DIR: not a writable directory"
[[ -z $DISK || (-d $DISK && -w $DISK) ]] || die "--disk $DISK: not a writable directory"
[[ -z $OURS_BIN || -x $OURS_BIN ]] || die "--bin $OURS_BIN: not an executable file"
((!ONE_CORE)) || command -v taskset >/dev/null || die "--one-core needs taskset (Debian package util-linux)"

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PERL_MB2MD=/usr/bin/mb2md
TIME_BIN=/usr/bin/time

WORK=
BIN=
DISKWORK=
cleanup() {
	local d
	for d in "$WORK" "$BIN" "$DISKWORK"; do
		if [[ -n $d && -d $d ]]; then
			rm -rf -- "$d"
		fi
	done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

WORK=$(mktemp -d "$DIR/mb2md-bench.XXXXXX")
BIN=$(mktemp -d "${TMPDIR:-/tmp}/mb2md-bench-bin.XXXXXX")
HOMEDIR=$WORK/home
mkdir "$HOMEDIR"
NOTES=$WORK/notes
: >"$NOTES"

note() {
	echo "- $*" >>"$NOTES"
	echo "bench.sh: $*" >&2
}
say() { echo "bench.sh: $*" >&2; }

# logtail FILE: the last lines of a log on one line
logtail() {
	local t
	t=$(tail -n 3 "$1" | tr '\n' ' ')
	echo "${t:-(no output)}"
}

# --- timing ------------------------------------------------------------------------

# TIMER is set once scripts/rusage is built (see below); until then, and should it not
# build, /usr/bin/time, or bash's time
TIMER=
HAVE_TIME=0
if [[ -x $TIME_BIN ]]; then
	HAVE_TIME=1
fi

# measure STATS LOG CMD...: runs CMD with stdout and stderr to LOG, writes
# "wall user sys maxrss_kb" (maxrss "-" when unknown) to STATS and returns CMD's status.
measure() {
	local stats=$1 log=$2 rc=0
	shift 2
	if [[ -n $TIMER ]]; then
		"$TIMER" -o "$WORK/time.raw" "$@" >"$log" 2>&1 || rc=$?
		tail -n 1 "$WORK/time.raw" >"$stats"
	elif ((HAVE_TIME)); then
		"$TIME_BIN" -f '%e %U %S %M' -o "$WORK/time.raw" "$@" >"$log" 2>&1 || rc=$?
		tail -n 1 "$WORK/time.raw" >"$stats"
	else
		local TIMEFORMAT='%R %U %S'
		{ time "$@" >"$log" 2>&1; } 2>"$WORK/time.raw" || rc=$?
		echo "$(tail -n 1 "$WORK/time.raw") -" >"$stats"
	fi
	return "$rc"
}

# least FILE COLUMN: the smallest number of a column ("-" when there are none)
least() {
	awk -v c="$2" '$c != "-" { print $c }' "$1" | sort -g | awk 'NR == 1 { printf "%.3f\n", $1; n = 1 } END { if (!n) print "-" }'
}

# median FILE COLUMN: the median of a column of numbers ("-" when there are none)
median() {
	awk -v c="$2" '$c != "-" { print $c }' "$1" | sort -g | awk '
		{ v[NR] = $1 }
		END {
			if (NR == 0) { print "-"; exit }
			m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%.3f\n", m
		}'
}

# mib KB: kilobytes as MiB with one decimal ("-" stays "-")
mib() {
	if [[ $1 == - ]]; then echo -; else awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; fi
}

# ratio A B: A/B with three decimals (the verdict is taken on it: 0.101 is not within 0.1),
# "n/a" when either is missing or B is zero
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "-" || b == "-" || a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.3f", a / b }'
}

# within VALUE OP LIMIT: "yes", "no" or "n/a"
within() {
	awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
		if (v == "n/a" || v == "-" || v == "") { print "n/a"; exit }
		ok = (op == "<=") ? (v + 0 <= l + 0) : (v + 0 < l + 0)
		print (ok ? "yes" : "no") }'
}

# files DIR: the number of message files under */cur and */new
files() {
	find "$1" -type f \( -path '*/cur/*' -o -path '*/new/*' \) | wc -l
}

# --- build -------------------------------------------------------------------------

cd "$ROOT"
say "building genmbox and mb2md in $BIN"
go build -o "$BIN/genmbox" ./scripts/genmbox
OURS=$BIN/mb2md
HAVE_OURS=1
if [[ -n $OURS_BIN ]]; then
	OURS=$(realpath "$OURS_BIN")
	note "ours is the given binary $OURS, not a build of ./cmd/mb2md"
elif ! go build -o "$OURS" ./cmd/mb2md >"$BIN/build.log" 2>&1; then
	HAVE_OURS=0
	note "our mb2md did not build (\`go build ./cmd/mb2md\`), so it is skipped: $(head -n 3 "$BIN/build.log" | tr '\n' ' ')"
fi
if go build -o "$BIN/rusage" ./scripts/rusage >"$BIN/rusage.log" 2>&1; then
	TIMER=$BIN/rusage
elif ((HAVE_TIME)); then
	note "scripts/rusage did not build: times come from $TIME_BIN, in steps of 10 ms: $(head -n 3 "$BIN/rusage.log" | tr '\n' ' ')"
else
	note "scripts/rusage did not build and $TIME_BIN is missing (Debian package \`time\`): times come from bash's \`time\`, peak RSS is unknown"
fi
HAVE_PERL=1
if [[ ! -x $PERL_MB2MD ]]; then
	HAVE_PERL=0
	note "Debian mb2md is not installed at $PERL_MB2MD (Debian package \`mb2md\`): skipped"
fi

# --- input -------------------------------------------------------------------------

MBOX=$WORK/bench.mbox
say "generating $MESSAGES messages, ~$SIZE_MB MiB ${FLAGS:+(with $FLAGS)}"
# shellcheck disable=SC2086 # FLAGS is empty or one word
measure "$WORK/gen.stats" "$WORK/gen.log" "$BIN/genmbox" -n "$MESSAGES" --size-mb "$SIZE_MB" --seed 1 $FLAGS -o "$MBOX" ||
	die "genmbox failed: $(cat "$WORK/gen.log")"
MBOX_BYTES=$(stat -c %s "$MBOX")
read -r GEN_WALL _ <"$WORK/gen.stats"

# one MODE SRC OUT STATS LOG: runs a tool once, measured, and returns its status; the
# converters run with absolute paths, HOME a temporary directory, TZ=UTC and LC_ALL=C
one() {
	local mode=$1 src=$2 out=$3 stats=$4 log=$5
	local pin=()
	if ((ONE_CORE)); then
		pin=(taskset -c 0 env GOMAXPROCS=1)
	fi
	case $mode in
	ours) measure "$stats" "$log" "${pin[@]}" env HOME="$HOMEDIR" TZ=UTC LC_ALL=C "$OURS" -s "$src" -d "$out" --quiet ;;
	compat) measure "$stats" "$log" "${pin[@]}" env HOME="$HOMEDIR" TZ=UTC LC_ALL=C "$OURS" -s "$src" -d "$out" --quiet --compat ;;
	perl) measure "$stats" "$log" "${pin[@]}" env HOME="$HOMEDIR" TZ=UTC LC_ALL=C "$PERL_MB2MD" -s "$src" -d "$out" ;;
	floor)
		mkdir "$out"
		measure "$stats" "$log" "${pin[@]}" tar -x --no-same-owner -f "$FLOOR_TAR" -C "$out"
		;;
	esac
}

# --- the floor archive: the files our mb2md writes, from a preparatory run ----------

FLOOR_TAR=$WORK/floor.tar
HAVE_FLOOR=0
FLOOR_FROM=
prep=$WORK/prep
if ((HAVE_OURS)); then
	say "preparatory run of ours (for the floor archive; not counted)"
	if one ours "$MBOX" "$prep" "$WORK/prep.stats" "$WORK/prep.log"; then
		FLOOR_FROM=ours
	else
		note "our mb2md failed on the preparatory run (exit status $?): $(logtail "$WORK/prep.log"); it is skipped from here on"
		HAVE_OURS=0
		rm -rf -- "$prep"
	fi
fi
if [[ -z $FLOOR_FROM ]] && ((HAVE_PERL)); then
	say "preparatory run of Debian mb2md (for the floor archive; not counted)"
	if one perl "$MBOX" "$prep" "$WORK/prep.stats" "$WORK/prep.log"; then
		FLOOR_FROM=perl
		note "the floor archive holds Debian mb2md's output, as ours was not available"
	else
		note "Debian mb2md failed on the preparatory run: $(logtail "$WORK/prep.log")"
		rm -rf -- "$prep"
	fi
fi
if [[ -n $FLOOR_FROM ]]; then
	tar -c -f "$FLOOR_TAR" -C "$prep" .
	rm -rf -- "$prep"
	HAVE_FLOOR=1
else
	note "no tool produced a Maildir: the floor is skipped"
fi

# --- the measured runs -------------------------------------------------------------

TOOLS=(ours perl floor compat)
declare -A ENABLED=([ours]=$HAVE_OURS [perl]=$HAVE_PERL [floor]=$HAVE_FLOOR [compat]=$HAVE_OURS)
declare -A FAILS=([ours]=0 [perl]=0 [floor]=0 [compat]=0)
declare -A NFILES=([ours]=- [perl]=- [floor]=- [compat]=-)
RAW=$WORK/raw
: >"$RAW"
for t in "${TOOLS[@]}"; do : >"$WORK/res-$t"; done

ORDERS=()
for ((r = 1; r <= RUNS; r++)); do
	order=()
	for ((k = 0; k < ${#TOOLS[@]}; k++)); do
		order+=("${TOOLS[$(((r - 1 + k) % ${#TOOLS[@]}))]}")
	done
	ORDERS+=("${order[*]}")
	say "run $r/$RUNS: ${order[*]}"
	for t in "${order[@]}"; do
		((ENABLED[$t])) || continue
		out=$WORK/out-$r-$t
		if one "$t" "$MBOX" "$out" "$WORK/one.stats" "$WORK/one-$t.log"; then
			cat "$WORK/one.stats" >>"$WORK/res-$t"
			if [[ ${NFILES[$t]} == - ]]; then
				NFILES[$t]=$(files "$out")
			fi
			echo "$r $t $(cat "$WORK/one.stats")" >>"$RAW"
		else
			rc=$?
			FAILS[$t]=$((FAILS[$t] + 1))
			echo "$r $t failed(exit $rc)" >>"$RAW"
			note "run $r: $t failed (exit status $rc): $(logtail "$WORK/one-$t.log")"
		fi
		rm -rf -- "$out"
	done
done

# --- one large message -------------------------------------------------------------

SINGLE_STATS=
if ((SINGLE_MIB > 0)) && ((HAVE_OURS)); then
	SMBOX=$WORK/single.mbox
	say "single message of $SINGLE_MIB MiB"
	measure "$WORK/sgen.stats" "$WORK/sgen.log" "$BIN/genmbox" --single-mib "$SINGLE_MIB" --seed 1 $FLAGS -o "$SMBOX" ||
		die "genmbox --single-mib failed: $(cat "$WORK/sgen.log")"
	if one ours "$SMBOX" "$WORK/out-single" "$WORK/single.stats" "$WORK/single.log"; then
		SINGLE_STATS=$(cat "$WORK/single.stats")
		SINGLE_FILES=$(files "$WORK/out-single")
	else
		note "ours failed on the $SINGLE_MIB MiB message (exit status $?): $(logtail "$WORK/single.log")"
	fi
	rm -rf -- "$WORK/out-single" "$SMBOX"
elif ((SINGLE_MIB > 0)); then
	note "single-message test skipped: our mb2md is not available"
fi

# --- one durable run on a real disk ------------------------------------------------

DISK_STATS=
if [[ -n $DISK ]]; then
	if ((HAVE_OURS)); then
		DISKWORK=$(mktemp -d "$DISK/mb2md-bench.XXXXXX")
		say "one run of ours into $DISKWORK (real disk)"
		sync
		if one ours "$MBOX" "$DISKWORK/Maildir" "$WORK/disk.stats" "$WORK/disk.log"; then
			DISK_STATS=$(cat "$WORK/disk.stats")
			measure "$WORK/sync.stats" "$WORK/sync.log" sync || true
			SYNC_STATS=$(cat "$WORK/sync.stats")
		else
			note "ours failed on the disk run (exit status $?): $(logtail "$WORK/disk.log")"
		fi
		rm -rf -- "$DISKWORK"
	else
		note "disk run skipped: our mb2md is not available"
	fi
fi

# --- report ------------------------------------------------------------------------

declare -A WALL USER SYS RSS
for t in "${TOOLS[@]}"; do
	WALL[$t]=$(median "$WORK/res-$t" 1)
	USER[$t]=$(median "$WORK/res-$t" 2)
	SYS[$t]=$(median "$WORK/res-$t" 3)
	RSS[$t]=$(median "$WORK/res-$t" 4)
done

label() {
	case $1 in
	ours) echo "ours: \`mb2md -s FILE -d OUT --quiet\`" ;;
	perl) echo "Debian mb2md 3.20 (perl): \`/usr/bin/mb2md -s FILE -d OUT\`" ;;
	floor) echo "floor: \`tar -x\` of ${FLOOR_FROM:-no} output" ;;
	compat) echo "ours, byte-identical to Debian's: \`mb2md -s FILE -d OUT --quiet --compat\`" ;;
	esac
}

ORDER_TEXT=
for o in "${ORDERS[@]:0:${#TOOLS[@]}}"; do
	ORDER_TEXT+="${ORDER_TEXT:+; }$o"
done
fstype=$(stat -f -c %T "$DIR" 2>/dev/null || echo unknown)
R_WALL=$(ratio "${WALL[ours]}" "${WALL[floor]}")
R_USER=$(ratio "${USER[ours]}" "${USER[perl]}")
R_COMPAT=$(ratio "${WALL[perl]}" "${WALL[compat]}")
# the same ratios from each tool's best run: on a shared machine noise only ever adds time,
# and it hits a two-thread process (ours) harder than a one-thread one (perl, tar)
B_WALL=$(ratio "$(least "$WORK/res-ours" 1)" "$(least "$WORK/res-floor" 1)")
B_USER=$(ratio "$(least "$WORK/res-ours" 2)" "$(least "$WORK/res-perl" 2)")
RSS_BIG=$(mib "${RSS[ours]}")
RSS_ONE=-
if [[ -n $SINGLE_STATS ]]; then
	RSS_ONE=$(mib "$(awk '{ print $4 }' <<<"$SINGLE_STATS")")
fi

cat <<EOF
# mb2md benchmark

- when: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(nproc) CPUs, $(uname -sr), $(go version | awk '{ print $3 }')
- input: $MESSAGES messages, $MBOX_BYTES bytes ($(mib $((MBOX_BYTES / 1024))) MiB), \`genmbox -n $MESSAGES --size-mb $SIZE_MB --seed 1${FLAGS:+ $FLAGS}\` in $GEN_WALL s
- outputs in $DIR ($fstype), a fresh directory for every run, deleted after it
- $RUNS runs; the order rotates from run to run: $ORDER_TEXT
- cores: $(if ((ONE_CORE)); then echo "every tool on CPU 0 only (\`--one-core\`: taskset -c 0, ours with GOMAXPROCS=1); the wall ratio says nothing about ours then"; else echo "all ($(nproc))"; fi)
- timer: $(if [[ -n $TIMER ]]; then echo "\`scripts/rusage\` (wait4 of the child: CPU times in ms, peak RSS)"; elif ((HAVE_TIME)); then echo "\`$TIME_BIN -f '%e %U %S %M'\`"; else echo "bash \`time\` (no RSS)"; fi)

## Medians

| tool | ok/runs | wall s | user s | sys s | maxRSS MiB | message files |
|---|---|---|---|---|---|---|
EOF
for t in "${TOOLS[@]}"; do
	if ((ENABLED[$t])); then
		ok=$((RUNS - FAILS[$t]))
		echo "| $(label "$t") | $ok/$RUNS | ${WALL[$t]} | ${USER[$t]} | ${SYS[$t]} | $(mib "${RSS[$t]}") | ${NFILES[$t]} |"
	else
		echo "| $(label "$t") | skipped | - | - | - | - | - |"
	fi
done

cat <<EOF

## Against the targets

| measure | value | target | within |
|---|---|---|---|
| wall, ours / floor | $R_WALL | ≤ 1.3 | $(within "$R_WALL" "<=" 1.3) |
| user CPU, ours / perl | $R_USER | ≤ 0.1 | $(within "$R_USER" "<=" 0.1) |
| maxRSS ours, $MESSAGES messages (MiB) | $RSS_BIG | < 32 | $(within "$RSS_BIG" "<" 32) |
| maxRSS ours, one $SINGLE_MIB MiB message (MiB) | $RSS_ONE | < 32 | $(within "$RSS_ONE" "<" 32) |

The verdicts are on the medians. From each tool's best run instead: wall ours / floor $B_WALL,
user CPU ours / perl $B_USER.
EOF

echo
echo "Speed-up of \`--compat\` over Debian mb2md (wall): ${R_COMPAT}×."
if [[ -n $SINGLE_STATS ]]; then
	read -r w u s m <<<"$SINGLE_STATS"
	echo
	echo "One $SINGLE_MIB MiB message, ours: wall $w s, user $u s, sys $s s, maxRSS $(mib "$m") MiB, $SINGLE_FILES message file(s)."
fi
if [[ -n $DISK_STATS ]]; then
	read -r w u s _ <<<"$DISK_STATS"
	read -r sw _ <<<"$SYNC_STATS"
	echo
	echo "On disk ($DISK, $(stat -f -c %T "$DISK" 2>/dev/null || echo unknown)), ours once: wall $w s (user $u, sys $s), then \`sync\` $sw s: durable after $(awk -v a="$w" -v b="$sw" 'BEGIN { printf "%.2f", a + b }') s."
fi

echo
echo "## Every run"
echo
echo "| run | tool | wall s | user s | sys s | maxRSS KiB |"
echo "|---|---|---|---|---|---|"
while read -r r t w u s m; do
	echo "| $r | $t | $w | ${u:-} | ${s:-} | ${m:-} |"
done <"$RAW"

if [[ -s $NOTES ]]; then
	echo
	echo "## Notes"
	echo
	cat "$NOTES"
fi
