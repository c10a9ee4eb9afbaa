#!/usr/bin/env bash
# run.sh: how long does `mydocker run busybox true` take, next to runc and
# bubblewrap starting the same busybox root filesystem and running `true`?
#
# Usage (as root, from the repository): sudo make bench [CH=<slug>]
#   CH            the stage to measure (default: the last tested chapter: written or code)
#   BENCH_QUICK=1 a few runs only, results (and the page) in build/bench only (for CI)
#
# Everything it makes is in build/bench; outside build/ it only creates (and
# removes again) the cgroup parent mydocker-bench and, when perf is installed
# and the tracing filesystem is not mounted, its mount at /sys/kernel/tracing
# (see mounts.sh). A full run also rewrites docs/performance.md with the
# results.
set -euo pipefail

cd "$(dirname "$0")/../.."
repo=$PWD
GO=${GO:-go}
out=$repo/build/bench
parent=mydocker-bench # our own cgroup parent, never the book's "mydocker"
id=mydocker-bench     # runc's container id
if [ "${BENCH_QUICK:-0}" = 1 ]; then
	warmup=1 runs=3 quick=1 sequential=5
else
	warmup=10 runs=200 quick=0 sequential=100
fi
# The goals, on the medians of one run: mydocker at most this many times
# runc's time, and bwrap's.
goal_runc=0.35
goal_bwrap=2

die() {
	echo "bench: $*" >&2
	exit 1
}

# --- preconditions ------------------------------------------------------------
[ "$(id -u)" = 0 ] || die "containers need root: sudo make bench"
for tool in runc bwrap hyperfine jq tar; do
	command -v "$tool" >/dev/null || die "$tool is missing: run scripts/provision.sh"
done
command -v "$GO" >/dev/null || die "no Go found: run scripts/provision.sh"
# hyperfine runs the commands without a shell, splitting them on spaces.
case $repo in *[[:space:]]*) die "the repository's path has a space in it: $repo" ;; esac

# --- leave the machine as we found it ------------------------------------------
# The cgroup parent exists in every hierarchy (one per controller on v1), and
# rmdir removes a cgroup only once it has no children: deepest first.
remove_cgroups() {
	local d
	for d in /sys/fs/cgroup/"$parent" /sys/fs/cgroup/*/"$parent"; do
		if [ -d "$d" ]; then
			find "$d" -depth -type d -exec rmdir {} \; || echo "bench: could not remove $d" >&2
		fi
	done
}
# The mounts now, to compare at the end (mounts.sh: with tracefs mounted
# first when perf will run, since perf would mount it).
source scripts/bench/mounts.sh
mounts_snapshot
cleanup() {
	local status=$?
	runc --root "$out/runc" delete --force "$id" >/dev/null 2>&1 || true
	remove_cgroups
	# A container that leaked a mount into the host would make every later
	# result suspect: fail loudly.
	local left
	left=$(mounts_left)
	if [ -n "$left" ]; then
		echo "bench: mounts left behind (by a container, or by something else that ran meanwhile):" >&2
		echo "$left" >&2
		status=1
	fi
	mounts_release
	exit "$status"
}
trap cleanup EXIT
grep -q " $out" /proc/self/mountinfo && die "something is mounted under $out: unmount it first"
remove_cgroups # what an interrupted run may have left

# --- 1. mydocker, from the stage ---------------------------------------------
ch=${CH:-$($GO run ./scripts/stagegen chapters --tested | tail -n 1)}
echo "[bench] stage $ch"
$GO run ./scripts/stagegen stage "$ch"
mkdir -p "$out"
(cd "build/stages/$ch" && CGO_ENABLED=0 $GO build -o "$out/mydocker" ./mydocker)
# --- 1b. the same stage at the baseline commit ---------------------------------
# scripts/bench/baseline names a commit from before the work on start-up
# time; its stage is built and measured in this same run, on the same
# machine under the same load: the before/after columns. A clone without
# that commit (a shallow one) measures the current mydocker alone.
baseline_rev=$(sed -n 's/^commit //p' scripts/bench/baseline)
before=""
if git rev-parse -q --verify "$baseline_rev^{commit}" >/dev/null 2>&1; then
	# A clone, not an archive: stagegen lists the sources with git.
	rm -rf "$out/baseline"
	git clone -q --no-checkout "$repo" "$out/baseline"
	git -C "$out/baseline" checkout -q --detach "$baseline_rev"
	if (cd "$out/baseline" && $GO run ./scripts/stagegen stage "$ch" >/dev/null &&
		cd "build/stages/$ch" && CGO_ENABLED=0 $GO build -o "$out/mydocker-before" ./mydocker); then
		before=$out/mydocker-before
		echo "[bench] before: stage $ch at ${baseline_rev:0:12}"
	else
		echo "[bench] stage $ch does not build at ${baseline_rev:0:12}: no before/after" >&2
	fi
else
	echo "[bench] ${baseline_rev:0:12} (scripts/bench/baseline) is not in this clone: no before/after" >&2
fi
# (Read the whole help: with pipefail, grep -q closing the pipe early would
# make the pipeline fail.)
case $("$out/mydocker" run --help) in
*IMAGE*) ;;
*) die "stage $ch runs no images yet (its 'mydocker run' takes no IMAGE): use CH=rootfs, overlay or a later chapter" ;;
esac
go_version=$(cd "build/stages/$ch" && $GO version)
# From the security chapter on, mydocker hardens its containers as Docker
# does by default.
case $("$out/mydocker" run --help) in
*cap-add*) hardened=1 mydocker_hardening="Docker's defaults: capabilities cut to 14, masked and read-only paths in /proc and /sys, /sys read-only, Docker's seccomp profile, the device rules" ;;
*) hardened=0 mydocker_hardening="none yet" ;;
esac

# From the detach chapter on, a container stays after it has exited unless
# it is run with --rm (as Docker's do): a thousand runs would leave a
# thousand, and every run would step over them.
rm_flag=""
case $("$out/mydocker" run --help) in *--rm*) rm_flag=--rm ;; esac
# From the netns chapter on, a container is wired to a bridge by default.
# runc's default config gives it a network namespace with nothing in it,
# and so does --network none (lo alone, up): the same work on both sides.
# (The bridged run costs a veth pair and an address more.)
case $("$out/mydocker" run --help) in *--network*) rm_flag="$rm_flag --network none" ;; esac

# --- 2. the image, in a private state root ------------------------------------
image=build/images/busybox.tar
[ -f "$image" ] || scripts/image/busybox.sh "$image"
mkdir -p "$out/root/images"
cp -p "$image" "$out/root/images/busybox.tar"
if [ -n "$before" ]; then
	rm -rf "$out/root-before"
	mkdir -p "$out/root-before/images"
	cp -p "$image" "$out/root-before/images/busybox.tar"
fi

# --- 3. runc's bundle: the same files, runc's own default config ------------
# Only what the comparison needs is changed: no terminal, run `true`, and a
# cgroup under our parent (so that cleaning up finds it by name).
bundle=$out/bundle
rm -rf "$bundle" "$out/runc"
mkdir -p "$bundle/rootfs"
tar -xf "$image" -C "$bundle/rootfs"
(cd "$bundle" && runc spec)
jq --arg cg "/$parent/runc" '.process.terminal = false | .process.args = ["true"] | .linux.cgroupsPath = $cg' \
	"$bundle/config.json" >"$bundle/config.json.new"
mv "$bundle/config.json.new" "$bundle/config.json"

# --- 4. the three commands ----------------------------------------------------
mydocker_cmd="$out/mydocker --root $out/root run $rm_flag --cgroup-parent $parent busybox true"
before_cmd=""
[ -z "$before" ] || before_cmd="$before --root $out/root-before run $rm_flag --cgroup-parent $parent busybox true"
# runc run deletes the container when it exits, so one fixed id does.
runc_cmd="runc --root $out/runc run --bundle $bundle $id"
# bwrap's near-minimum: the same rootfs, /proc, /dev and the same namespaces
# as mydocker (bwrap always adds a mount namespace).
bwrap_cmd="bwrap --bind $bundle/rootfs / --proc /proc --dev /dev --unshare-pid --unshare-uts --unshare-ipc true"

# One run of each first: a failure here has a readable message, and
# mydocker's first run unpacks the image's layer, which is not what we time.
for cmd in "$mydocker_cmd" "$runc_cmd" "$bwrap_cmd" ${before_cmd:+"$before_cmd"}; do
	$cmd || die "this failed, so there is nothing to measure: $cmd"
done
# What each one unshares, in the kernel's short names: mydocker says in its
# trace, runc in its config.
ns_names() { tr ' |' '\n' | sed 's/^CLONE_NEWNS$/mnt/; s/^CLONE_NEW//; s/^mount$/mnt/; s/^network$/net/' | tr '[:upper:]' '[:lower:]' | sort | xargs; }
mydocker_ns=$("$out/mydocker" --debug --root "$out/root" run $rm_flag --cgroup-parent "$parent" busybox true 2>&1 >/dev/null |
	sed -n 's/.*clone(\([A-Z_|]*\)).*/\1/p' | ns_names)
runc_ns=$(jq -r '.linux.namespaces[].type' "$bundle/config.json" | ns_names)
bwrap_ns=$(echo mnt pid uts ipc | ns_names)

# --- 5. measure ---------------------------------------------------------------
# Other work on the machine slows every tool and widens the spread: say how
# busy the CPUs were just before, from /proc/stat's counters over a second
# (fields 5 and 6 of the "cpu" line are idle and iowait time).
cpu_busy() {
	local a b
	a=$(head -n 1 /proc/stat)
	sleep 1
	b=$(head -n 1 /proc/stat)
	echo "$a $b" | awk '{ for (i = 2; i <= 11; i++) all += $(i + 11) - $i
		printf "%.0f", 100 * (1 - ($16 + $17 - $5 - $6) / all) }'
}
busy=$(cpu_busy)
[ "$busy" -le 10 ] || echo "[bench] warning: the CPUs were $busy% busy before the timing: expect slower, noisier results" >&2
# -N: no shell between hyperfine and the command, so none of its cost counts.
hyperfine -N --warmup "$warmup" --runs "$runs" \
	--export-json "$out/results.json" --export-markdown "$out/results.md" \
	-n mydocker "$mydocker_cmd" -n runc "$runc_cmd" -n bwrap "$bwrap_cmd" \
	${before_cmd:+-n mydocker-before "$before_cmd"}

# --- 6. summary ---------------------------------------------------------------
# stats FILE NAME: NAME's mean, σ, median, min and max in ms, from one of
# hyperfine's JSON exports; result NAME: the same from the main one
stats() { jq -r --arg n "$2" '.results[] | select(.command == $n) | [.mean, .stddev, .median, .min, .max] | map(. * 1000) | @tsv' "$1"; }
result() { stats "$out/results.json" "$1"; }
line() { result "$1" | awk -v n="$1" '{ printf "%-15s %6.1f ms ± %5.1f ms   (median %.1f, min %.1f, max %.1f)\n", n, $1, $2, $3, $4, $5 }'; }
# ratio A B [column]: A's mean (or another column of result) over B's
ratio() { awk -v a="$(result "$1" | cut -f"${3:-1}")" -v b="$(result "$2" | cut -f"${3:-1}")" 'BEGIN { printf "%.2f", a / b }'; }
summary=$(
	line mydocker
	line runc
	line bwrap
	[ -z "$before" ] || line mydocker-before
	# The medians decide: a few runs that other work on the machine slowed
	# down sway a mean, hardly a median; the fastest runs (column 4) are a
	# second opinion.
	echo "mydocker/runc  = $(ratio mydocker runc 3) (medians; means: $(ratio mydocker runc), fastest runs: $(ratio mydocker runc 4))   the goal: at most $goal_runc"
	echo "mydocker/bwrap = $(ratio mydocker bwrap 3) (medians; means: $(ratio mydocker bwrap), fastest runs: $(ratio mydocker bwrap 4))   the goal: at most $goal_bwrap"
)
echo
echo "$summary" | tee "$out/summary.txt"

# --- two Go starts: the floor of this design; the move into a cgroup -----------
# Every container starts the mydocker binary twice: mydocker itself, and
# the init, re-executed in the new namespaces. A Go hello-world, and
# `mydocker --version`, which starts the binary and does nothing else, say
# what one start costs here; bwrap's whole run bounds the kernel's part of
# a container (it makes fewer namespaces and mounts than mydocker).
mkdir -p "$out/hello"
printf 'package main\n\nimport "os"\n\nfunc main() { os.Stdout.WriteString("hello\\n") }\n' >"$out/hello/main.go"
printf 'module hello\n\ngo 1.25\n' >"$out/hello/go.mod"
(cd "$out/hello" && CGO_ENABLED=0 $GO build -o hello .)
# bwrap in mydocker's namespaces: with a network namespace too, from the
# chapter netns on (bwrap brings its lo up, as mydocker does).
bwrap_same_ns=$bwrap_cmd
case " $mydocker_ns " in *" net "*) bwrap_same_ns="${bwrap_cmd% true} --unshare-net true" ;; esac
hyperfine -N --warmup "$warmup" --runs "$runs" --export-json "$out/starts.json" \
	-n go-hello "$out/hello/hello" -n mydocker-version "$out/mydocker --version" \
	-n bwrap-same-namespaces "$bwrap_same_ns" >/dev/null
start_median() { stats "$out/starts.json" "$1" | awk '{ printf "%.1f", $3 }'; }
# And the cgroup: moving the init into it waits for an RCU grace period
# (cgroupmove.sh says why), which runc pays as well and bwrap, with no
# cgroup, does not.
read -r move_first move_other move_self < <(scripts/bench/cgroupmove.sh "$parent" "$([ "$quick" = 1 ] && echo 3 || echo 20)")
# What bwrap does not do and any runtime with cgroups, an overlay root and
# Docker's defaults must: a cgroup in every hierarchy, made and removed, the
# overlay, mounted and taken down, /dev/shm, /dev/mqueue and the cgroup
# view, and the hardening: its mounts in /proc and /sys, and the seccomp
# filter loaded (kernelwork/main.go). A --rm container's layer is mounted
# volatile from the chapter images on.
CGO_ENABLED=0 $GO build -o "$out/kernelwork" ./scripts/bench/kernelwork
read -r cgroup_work overlay_durable overlay_volatile hardening_mounts other_mounts seccomp_load < <("$out/kernelwork" "$parent" "$bundle/rootfs" "$out/kernelwork.d" \
	"$([ "$quick" = 1 ] && echo 5 || echo 50)")
# Which one mydocker mounts, as its container sees its root.
overlay_note=""
root_line=$("$out/mydocker" --root "$out/root" run $rm_flag --cgroup-parent "$parent" busybox grep " / / " /proc/self/mountinfo)
case $root_line in
*" - overlay "*volatile*) overlay_work=$overlay_volatile overlay_kind="the overlay volatile, as mydocker's --rm container's"
	overlay_note=" (volatile, as a --rm container's: its unmount does not sync the filesystem under it)" ;;
*" - overlay "*) overlay_work=$overlay_durable overlay_kind="the overlay durable, as mydocker's" ;;
*) overlay_work=0 overlay_kind="no overlay: this stage binds its root" ;;
esac
hardening_floor=0 hardening_kind=""
if [ "$hardened" = 1 ]; then
	hardening_floor=$(awk -v m="$hardening_mounts" -v s="$seccomp_load" 'BEGIN { print m + s }')
	hardening_kind=", the hardening's mounts and seccomp filter"
fi
# floor STAT: the floor from that statistic of the starts (3 the median,
# 4 the fastest run); the kernel's extra work always as its medians.
floor_of() {
	awk -v v="$(stats "$out/starts.json" mydocker-version | cut -f"$1")" -v b="$(stats "$out/starts.json" bwrap-same-namespaces | cut -f"$1")" \
		-v c="$cgroup_work" -v o="$overlay_work" -v m="$other_mounts" -v h="$hardening_floor" 'BEGIN { printf "%.1f", 2 * v + b + c + o + m + h }'
}
floor=$(floor_of 3)
fastest_floor=$(floor_of 4)
self_moves=""
[ "$move_self" = - ] || self_moves="; a thread that moves itself $move_self ms"
starts_line="one start: a Go hello-world $(start_median go-hello) ms, mydocker --version $(start_median mydocker-version) ms (medians)
bwrap in mydocker's namespaces ($mydocker_ns): $(start_median bwrap-same-namespaces) ms (median)
a cgroup in every hierarchy, made and removed: $cgroup_work ms; the overlay root, mounted, unmounted and removed: $overlay_durable ms durable, $overlay_volatile ms volatile (medians)
/dev/shm, /dev/mqueue and the cgroup view, mounted: $other_mounts ms; /sys read-only, the masked and read-only paths of /proc and /sys, mounted: $hardening_mounts ms; Docker's seccomp filter, loaded: $seccomp_load ms (medians)
moving a process into a cgroup: the first write to cgroup.procs $move_first ms, each one after it $move_other ms$self_moves (medians)
two starts, bwrap in the same namespaces, the cgroups, the other mounts$hardening_kind and $overlay_kind: $floor ms"
echo "$starts_line" | tee -a "$out/summary.txt"

# --- 100 in a row -------------------------------------------------------------
# Many containers one after another, as a script or a test suite starts
# them: whatever a run leaves behind (state, cgroups, mounts, a lock) would
# slow the next ones down here. hyperfine runs each loop in bash and
# subtracts the shell's own start; the loop's forks are the same for both.
seq_loop() { echo "for i in \$(seq $sequential); do $1 >/dev/null || exit 1; done"; }
hyperfine --shell bash --warmup 0 --runs 3 --export-json "$out/sequential.json" \
	-n mydocker "$(seq_loop "$mydocker_cmd")" -n runc "$(seq_loop "$runc_cmd")"
# seq_median TOOL: the median of TOOL's loops, in seconds
seq_median() { stats "$out/sequential.json" "$1" | awk '{ printf "%.2f", $3 / 1000 }'; }
sequential_line="$sequential in a row: mydocker $(seq_median mydocker) s, runc $(seq_median runc) s (medians of 3)"
echo "$sequential_line" | tee -a "$out/summary.txt"

# The profile needs perf; a quick run makes one traced run, only to keep
# profile.sh working.
profile=""
if command -v perf >/dev/null; then
	profile=$(scripts/bench/profile.sh "$out/mydocker" "$out/root" "$parent" "$([ "$quick" = 1 ] && echo 1 || echo 30)" \
		${before:+"$before" "$out/root-before"})
	echo "$profile" >"$out/profile.md"
	echo "[bench] mydocker's steps: $out/profile.md"
fi
# From the detach chapter on, each container of run -d has a monitor that
# lives as long as it does: its memory is the cost of one more container.
monitors=""
case $("$out/mydocker" run --help) in
*--detach*)
	monitors=$(scripts/bench/monitors.sh "$out/mydocker" "$out/root" "$parent")
	echo "$monitors" >"$out/monitors.md"
	echo "$monitors"
	;;
esac
# From the netns chapter on: the cost of the default bridge, apart, in a
# network namespace of its own (its bridge and rules never reach the host).
network=""
case $("$out/mydocker" run --help) in
*--network*)
	network=$(scripts/bench/network.sh "$out/mydocker" "$out/root" "$parent" "$runc_cmd" \
		"$([ "$quick" = 1 ] && echo 1 || echo 5)" "$([ "$quick" = 1 ] && echo 3 || echo 50)")
	echo "$network" >"$out/network.md"
	echo "$network"
	;;
esac
# From the images chapter on: commit and export of a container that wrote
# 200 MB, next to GNU tar and sha256sum doing the same work.
images=""
case $("$out/mydocker" --help) in
*commit*)
	images_runs=5 images_mb=200
	[ "$quick" = 1 ] && images_runs=2 images_mb=20
	images=$(scripts/bench/images.sh "$out/mydocker" "$out/root" "$parent" "$out" "$images_runs" "$images_mb")
	echo "$images" >"$out/images.md"
	echo "$images"
	;;
esac
# A quick run writes its page into the results only, and leaves
# docs/performance.md alone: its figures are too few to keep, but writing
# the page shows any mistake in the code below.
page=docs/performance.md
[ "$quick" = 1 ] && page=$out/performance.md

# --- 7. docs/performance.md ---------------------------------------------------
pkg() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "not installed from a package"; }
cgroup_fs=$(stat -fc %T /sys/fs/cgroup)
case $cgroup_fs in
cgroup2fs) cgroup_layout="cgroup v2 only (unified)" ;;
tmpfs) if [ "$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
	cgroup_layout="cgroup v1 controllers, and cgroup v2 without controllers at /sys/fs/cgroup/unified (hybrid)"
else
	cgroup_layout="cgroup v1 only (legacy)"
fi ;;
*) cgroup_layout="unknown" ;;
esac
# num TOOL COLUMN: one number of result, rounded for the text
num() { result "$1" | awk -v c="$2" '{ printf "%.1f", $c }'; }
spread() { result "$1" | awk '{ printf "%.0f%%", 100 * $2 / $1 }'; }
# The goals, on the medians: a third of runc's time and twice bwrap's.
# goal_check NAME GOAL: a sentence saying whether mydocker's median is at
# most GOAL times NAME's, and by how many ms.
goal_check() {
	awk -v r="$(ratio mydocker "$1" 3)" -v a="$(num mydocker 3)" -v b="$(num "$1" 3)" -v g="$2" -v n="$1" 'BEGIN {
		m = a - g * b
		if (m <= 0) printf "met: mydocker takes %.2f of %s'"'"'s time (the goal: at most %s), %.1f ms under", r, n, g, -m
		else printf "missed: mydocker takes %.2f of %s'"'"'s time (the goal: at most %s); it would have to lose %.1f ms of its median", r, n, g, m
	}'
}
sequential_check=$(awk -v m="$(seq_median mydocker)" -v r="$(seq_median runc)" 'BEGIN {
	if (m < r) printf "met: mydocker'"'"'s take %.2f s, runc'"'"'s %.2f s", m, r
	else printf "missed: mydocker'"'"'s take %.2f s, runc'"'"'s %.2f s", m, r
}')
# goal NAME COLUMN [FORMAT]: the goal in ms from that statistic of NAME's
# runs (runc or bwrap; 3 the median, 4 the fastest run): goal_runc times
# runc's, goal_bwrap times bwrap's.
goal() {
	local factor=$goal_runc
	[ "$1" = runc ] || factor=$goal_bwrap
	awk -v v="$(num "$1" "$2")" -v g="$factor" -v f="${3:-%.6g}" 'BEGIN { printf f "\n", v * g }'
}
# goals_below FLOOR COLUMN [LEAD]: which goals lie below the floor, where
# no container of this design can reach them, and by how much, with the
# goals from that statistic of runc's and bwrap's runs (3 the median, 4 the
# fastest run); with LEAD, one short sentence that starts with it.
goals_below() {
	awk -v f="$1" -v lead="${3:-}" -v r="$(goal runc "$2")" -v b="$(goal bwrap "$2")" 'BEGIN {
		below = ""; n = 0
		if (r < f) { below = sprintf("runc'"'"'s (by %.1f ms)", f - r); n++ }
		if (b < f) { below = below (n ? " and " : "") sprintf("bwrap'"'"'s (by %.1f ms)", f - b); n++ }
		if (lead != "" && n == 0) printf "%s, both goals lie above the floor.\n", lead
		else if (lead != "") printf "%s, the floor is above %s goal%s.\n", lead, below, (n > 1 ? "s" : "")
		else if (n == 0) print "Both goals lie above this floor: they are within reach of this design."
		else printf "The floor is above %s goal%s: no container of this design can meet %s on this machine, whatever mydocker'"'"'s own code does.\n", below, (n > 1 ? "s" : ""), (n > 1 ? "them" : "it")
	}'
}
# How far above the floor mydocker itself is: the work of its own that the
# floor leaves out.
own_work_above_floor() {
	awk -v f="$floor" -v m="$(num mydocker 3)" 'BEGIN {
		printf "mydocker'"'"'s median lies %.1f ms above the floor: its own work, which the floor leaves out entirely (the state, the image, the configuration, the signals, the handshakes with the init, the wait and the cleanup).\n", m - f
	}'
}
verdict="Against runc, the goal is $(goal_check runc "$goal_runc").
Against bwrap, the goal is $(goal_check bwrap "$goal_bwrap").
For $sequential containers in a row, the goal (faster than runc's) is $sequential_check."
before_sentence=""
if [ -n "$before" ]; then
	before_sentence="
\`mydocker-before\` is the same stage built from commit ${baseline_rev:0:12}
(\`scripts/bench/baseline\`), the last before the work on start-up time,
measured in this same run: its median was $(num mydocker-before 3) ms, now $(num mydocker 3) ms
($(ratio mydocker mydocker-before 3) of it). The profile below compares them step by step.
"
fi
case " $runc_ns " in
*" cgroup "*) runc_cgroupns="and a cgroup namespace" ;;
*) runc_cgroupns="but, in this version, no cgroup namespace" ;;
esac
# Sums of the profile's rows (the third field is the median): the two Go
# starts, and the container's own work.
# (With a before column, the current figures are in the next one.)
now_column=3
[ -z "$before" ] || now_column=4
rows() { echo "$profile" | awk -F'|' -v re="$1" -v c="$now_column" '$2 ~ re { s += $c } END { printf "%.1f", s }'; }
go_starts=$(rows 'mydocker starts|the init starts')
own_work=$(rows 'container directories|clone|mounts:|cleanup:')
hardening=$(rows 'hardening:')
network_work="The work mydocker does
  not do yet is the network namespace."
[ -z "$network" ] || network_work="Both make a network namespace
  with nothing but \`lo\` in it (mydocker's \`--network none\`)."
if [ "$hardened" = 1 ]; then
	hardening_reading="- mydocker does the hardening runc does with Docker's defaults:
  capabilities, masked and read-only paths, the device rules and Docker's
  seccomp profile, which is compiled once and kept in the state root (the
  kernel still checks and compiles the program each time the init loads
  it). The profile below gives each step's cost. $network_work"
	hardening_work=", and the
  hardening steps in the init $hardening ms"
else
	hardening_reading="- This stage does not harden its containers yet: that comes with the
  chapter \`security\`."
	hardening_work=""
fi
if [ -n "$network" ]; then
	network_sentence="mydocker runs with \`--network none\` here, a network namespace with \`lo\`
alone (the default bridge is measured apart, below),"
else
	network_sentence="mydocker creates no network namespace yet (that comes with the chapter
\`netns\`),"
fi
traced=$(echo "$profile" | awk -F'|' -v c="$now_column" '/whole run, traced/ { gsub(/[* ]/, "", $c); print $c }')
# The steps' medians, added up: the median of the totals is larger when
# the slow runs are slow in different steps.
steps_sum=$(echo "$profile" | awk -F'|' -v c="$now_column" '$2 ~ /[a-z]/ && $2 !~ /^ step |whole run/ { s += $c } END { printf "%.1f", s }')
# urfave/cli links in its markdown and man-page output unless built with the
# tag urfave_cli_no_docs; their initialisers run in every process.
unused_docs=""
case $($GO version -m "$out/mydocker") in
*blackfriday*) unused_docs=", among them those of urfave/cli's markdown and man-page output
  (blackfriday, go-md2man), which mydocker never uses" ;;
esac

{
	cat <<EOF
# Performance: how long a container takes

This page is written by \`scripts/bench/run.sh\` (\`sudo make bench\`): run it
again rather than editing it. Its numbers are from one run, on
$(date -u +%Y-%m-%d), on the machine described below.

## What is measured

The whole life of a container that does nothing: \`true\` in the busybox image
of \`scripts/image/busybox.sh\`, from the moment the runtime starts until it has
exited and cleaned up. Three runtimes start the same root filesystem:

- **mydocker**, the stage \`$ch\`, built with \`CGO_ENABLED=0\`:
  \`mydocker run busybox true\`, in a state root of its own. Each run is a new
  container: a new id, a cgroup in every hierarchy under the parent
  \`$parent\`, an overlay mount of the image's layer (unpacked once, before the
  timing) with an empty upper layer$overlay_note, \`/proc\`, \`/sys\`, \`/dev\` and the rest,
  \`pivot_root\`, and at the end the removal of the cgroup and of the
  container's directory.
- **runc**, with the configuration \`runc spec\` writes, changed in three places
  only: \`process.terminal\` false, \`process.args\` \`["true"]\`, and
  \`linux.cgroupsPath\` \`/$parent/runc\`, so that its cgroup sits beside
  mydocker's. \`runc run\` creates, runs and deletes the container each time.
- **bubblewrap** (\`bwrap\`), close to the least a container can be: the
  unpacked root filesystem bound as \`/\`, \`--proc /proc --dev /dev\`, new PID,
  UTS and IPC namespaces (and the mount namespace bwrap always makes). No
  cgroup, no overlay, no state to clean up: a floor, not a rival.

They do not do quite the same work:

| | mydocker | runc | bwrap |
| --- | --- | --- | --- |
| namespaces | $mydocker_ns | $runc_ns | $bwrap_ns |
| cgroup | one per container, in every hierarchy | one per container, in every hierarchy | none |
| root filesystem | overlay on the shared layer, writable | the directory, remounted read-only | the directory, bound writable |
| hardening | $mydocker_hardening | capabilities cut to $(jq '.process.capabilities.bounding | length' "$bundle/config.json"), masked and read-only paths in /proc and /sys, no_new_privs, a devices cgroup rule | none |

$network_sentence and a cgroup namespace only where Docker's default asks for
one, on cgroup v2: $([ "$cgroup_fs" = cgroup2fs ] && echo "it does here" || echo "none here").
runc's default configuration creates a network namespace, $runc_cgroupns.

[hyperfine](https://github.com/sharkdp/hyperfine) runs the three in turn, in one
invocation and without a shell in between (\`-N\`): $warmup warm-up runs each,
then $runs timed runs each.

## How to reproduce

\`\`\`sh
sudo bash scripts/provision.sh   # once: runc, bubblewrap, hyperfine, jq
sudo make bench                  # the last tested chapter, or: sudo make bench CH=overlay
\`\`\`

The raw results land in \`build/bench/\`: \`results.json\`, \`results.md\`,
\`summary.txt\` and \`profile.md\`. With \`BENCH_QUICK=1\` it makes a few runs
only and leaves this page alone. On a busy machine every tool is slower and
noisier: run it when nothing else is running.

## The machine

| | |
| --- | --- |
| CPU | $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(nproc) CPUs |
| memory | $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) |
| system | $(sed -n 's/^PRETTY_NAME="\(.*\)"$/\1/p' /etc/os-release), kernel $(uname -r) |
| cgroups | \`stat -fc %T /sys/fs/cgroup\`: $cgroup_fs, that is $cgroup_layout |
| runc | $(pkg runc) |
| bubblewrap | $(pkg bubblewrap) |
| hyperfine | $(pkg hyperfine) |
| Go | $go_version (building mydocker) |
| load | the CPUs were $busy% busy in the second before the timing |

## Results

$(cat "$out/results.md")

\`\`\`
$summary
\`\`\`

$verdict
$before_sentence
## Two Go starts: the floor of this design; and the move into a cgroup

Every container starts the mydocker binary twice: \`mydocker run\`
itself, and the same binary again as the container's init, re-executed in
the new namespaces (the chapter \`namespaces\` says why a Go program
cannot simply fork). A Go hello-world and \`mydocker --version\`, which
starts the binary and does nothing else, measured in this run, and the
move of a process into a cgroup (\`scripts/bench/cgroupmove.sh\`):

\`\`\`
$starts_line
\`\`\`

Moving a process into a cgroup, as runc moves its init after the clone
(and mydocker before the chapter \`exec\`), takes the kernel's \`cgroup_threadgroup_rwsem\` for
writing, and the first writer waits for an RCU grace period: every CPU
must pass a quiescent state before fork and exit can be made to take the
slow path of that semaphore. The writes that follow at once, in the other
hierarchies, are cheap. The wait is the kernel's, not work, and it is
the largest single step of such a run. It can be avoided
by starting the init in its cgroups instead of moving it there: on cgroup
v1, a thread that moves itself (it writes 0 to a \`tasks\` file) is
exempt from the global lock, and a child it then clones is born in that
thread's cgroups; on cgroup v2, \`clone3\` with \`CLONE_INTO_CGROUP\`
starts the child in its cgroup. mydocker does both from the chapter
\`exec\` on (\`cgroups.Birth\`): its init is born in its cgroups and never
moved. Before it, as the chapter \`cgroups\` teaches, the init is moved
after the clone.

The kernel's share of a container is at least what bwrap's run costs in
the same namespaces, plus what bwrap does not do and a runtime with
cgroups, an overlay root and Docker's defaults must: a cgroup in every
hierarchy, made and removed; the overlay, mounted, unmounted and removed;
\`/dev/shm\`, \`/dev/mqueue\` and the container's view of its cgroups,
mounted; and the hardening: its mounts, and Docker's seccomp filter
loaded (\`scripts/bench/kernelwork\` times those system calls alone, in a
loop). It is a lower bound. The mounts are timed without their
teardown: a container's mounts are taken down in one pass when its mount
namespace ends, as bwrap's are, where each \`umount\` alone would wait for
an RCU grace period of its own (the overlay's unmount is timed, less that
wait, for the sync a durable layer's unmount does). The time the filter
then costs each system call, and the per-mount share of that last pass,
are left out too.
So a container of this design cannot take less than about $floor ms here
(two starts, bwrap in the same namespaces, the cgroups, the other mounts$hardening_kind and $overlay_kind), against the goals' $(goal runc 3 %.1f) ms ($goal_runc of runc's median) and
$(goal bwrap 3 %.1f) ms ($goal_bwrap times bwrap's median).
$(goals_below "$floor" 3)
$(own_work_above_floor)
On the fastest runs instead of the medians, which a burst of other work
on the machine can make slower but never faster, the floor is
$fastest_floor ms, against $(goal runc 4 %.1f) ms ($goal_runc of runc's fastest run) and $(goal bwrap 4 %.1f) ms ($goal_bwrap times bwrap's).
$(goals_below "$fastest_floor" 4 "On the fastest runs")
A runtime that moves its init into its cgroups (runc; mydocker before the
chapter \`exec\` and in the baseline) pays the move's wait on top. It is
not added here: inside a run it overlaps the init's start (the
profile below shows its share), and its length varies from one grace
period to the next (it is measured apart above, on an otherwise idle
machine).

## $sequential in a row

mydocker's and runc's commands above, $sequential times one after another in a bash loop (hyperfine
subtracts the shell's own start): what a script or a test suite that starts
many containers sees, and a check that no run leaves anything behind that
slows down the next.

\`\`\`
$sequential_line
\`\`\`

## Reading

- A container of mydocker's takes $(num mydocker 1) ms from start to cleanup
  (median $(num mydocker 3) ms), runc's $(num runc 1) ms (median $(num runc 3) ms),
  bwrap's $(num bwrap 1) ms (median $(num bwrap 3) ms).
$hardening_reading
- bwrap is a C program that starts once, creates no cgroup and leaves no
  state: what separates it from mydocker is mostly the cost of mydocker's
  design, below.
- σ is $(spread mydocker) of the mean for mydocker, $(spread runc) for runc and
  $(spread bwrap) for bwrap. This is a virtual machine with $(nproc) CPUs, where
  process creation and page faults are slow and depend on the host's load;
  a few slow runs pull a mean up, a median less so. hyperfine makes all the
  runs of one tool before the next tool's, so a burst of other work lands on
  one tool only. The ratio of the fastest runs, $(ratio mydocker runc 4) for
  mydocker/runc, is a second opinion that such a burst cannot skew: it can
  make a run slower, never faster.

EOF
	if [ -n "$monitors" ]; then
		cat <<EOF
## The monitors' memory

A container run with \`-d\` keeps a monitor (chapter \`detach\`): \`mydocker
run\` itself in a session of its own, which creates and starts the
container and then execs \`mydocker watch\`, a fresh start of the binary that
waits for the container and copies its output into the log for as long as
it runs. \`scripts/bench/monitors.sh\` starts 10 such containers and reads
each watcher's \`/proc/PID/smaps_rollup\` once they are idle:

$monitors

*Private (anonymous)* is the monitor's own memory, which no other process
shares: what one more container costs, and the figure the goal (at most
1.5 MB, 1536 kB) is about. *RSS* adds the pages of the mydocker binary it
maps, which every monitor shares; *PSS* counts each shared page divided
among the processes that map it, so it falls as more monitors run. What
creating the container took stays behind in the exec, and the watcher
runs with \`GOMAXPROCS=1\`: one P, fewer threads and caches.

EOF
	fi
	if [ -n "$network" ]; then
		cat <<EOF
## The cost of the network

The comparison above runs mydocker with \`--network none\`: a network
namespace with \`lo\` alone, the work runc's default configuration does.
A container on the default bridge (chapter \`netns\`) costs a veth pair
made in its namespace, an address taken from IPAM under its lock and given
back, the files of \`/etc\`, and netlink round trips to configure
\`eth0\`; the network's rules (chapter \`bridge\`) are made once, with the
network, before the timing. \`scripts/bench/network.sh\` times the three,
in one hyperfine run, in a network namespace of its own:

$network

EOF
	fi
	if [ -n "$images" ]; then
		cat <<EOF
## Commit and export

A container writes 200 MB of random data (200 files of 1 MB) into its
layer; \`scripts/bench/images.sh\` then times, as medians of 5 runs,
\`mydocker commit\` (a tar of the container's upper directory, hashed as
it is written, as a blob of the store) and \`mydocker export -o FILE\` (a
tar of the merged filesystem), next to GNU tar writing the same files and
sha256sum reading the result again:

$images

Commit hashes the tar while it writes it, where tar and sha256sum read
the data twice; export does not hash at all (Docker's does not either).

EOF
	fi
	if [ -n "$profile" ]; then
		cat <<EOF
## Where mydocker's time goes

\`scripts/bench/profile.sh\` runs mydocker 30 times under \`perf record\`,
which reads the kernel's tracepoints from a buffer instead of stopping the
process at each system call as strace does (strace -f doubles the time of
a run here), and enables only the tracepoints of the few system calls
that mark the steps, and of the scheduler's exec and exit. The order of
the events marks the steps. Each row is a median over the runs, so the
rows do not add up to the total (they add up to $steps_sum ms), and
tracing lengthens the run: $traced ms traced, against a median of
$(num mydocker 3) ms untraced above
(once one system call is traced, every call of the process takes the
kernel's slower path, which checks whether to report it).

$profile

- Most of the time is two Go program starts,
  $go_starts of the $traced ms: mydocker itself, then the same binary
  again as the container's init (\`/proc/self/exe init\`) after the clone.
  Each pays the Go runtime's own start and the package
  initialisers$unused_docs, as \`mydocker --help\` does. The init's start
  runs on the other CPU while mydocker goes on with create; its row ends
  when it waits for its config. Where mydocker moves the init into its
  cgroups after the clone (the baseline), the row ends only once the
  last move is done, and the first move waits for an RCU grace period
  (measured apart above).
- The container's own work, the directories and cgroups, the clone, the
  mounts and \`pivot_root\`, and the cleanup, is $own_work ms in all$hardening_work.
- "mydocker notices the exit" includes the kernel's own teardown of the
  container's namespaces and mounts, which it does before it reports the
  init's exit to mydocker: a durable overlay's unmount syncs the whole
  filesystem under its upper layer there, a volatile one's does not.
EOF
	else
		cat <<EOF
## Where mydocker's time goes

Not measured on this run: \`scripts/bench/profile.sh\` needs perf
(\`apt-get install linux-perf\` on Debian).
EOF
	fi
} >"$page"
echo "[bench] wrote $page"
