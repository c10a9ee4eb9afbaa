#!/usr/bin/env bash
# cgroupmove.sh: what moving a process into a cgroup costs, the way
# mydocker (and runc) move a container's init into its cgroup: a write of
# its PID to cgroup.procs. Prints three medians in ms, tab-separated: the
# first write of a round, each later write in other hierarchies, and a
# process that moves itself (its one thread) through v1's tasks file
# ("-" where there is no v1 hierarchy).
#
# Usage (as root): scripts/bench/cgroupmove.sh CGROUP_PARENT [ROUNDS]
#
# WHY the first write is measured apart: to move a process the kernel
# takes cgroup_threadgroup_rwsem for writing, and a writer of that
# per-CPU semaphore first waits for an RCU grace period, so that every CPU
# has left the fast path readers (fork, exit) take. Once one writer has
# waited, the semaphore stays on the slow path for a grace period after
# the last writer: the writes that follow at once (the other hierarchies)
# are cheap. A container's run does one such round; the rounds here are
# spaced apart, so each pays its wait as a run does.
# WHY a thread that moves itself is cheap: the kernel skips the global
# lock when a single thread moves itself (writes 0 to a v1 tasks file):
# no fork or exit of another process can race with that. A child it then
# forks is born in the cgroups of the thread that forked it.
set -euo pipefail

parent=${1:?usage: $0 CGROUP_PARENT [ROUNDS]}
rounds=${2:-20}

# The hierarchies a container joins: the unified one on cgroup v2, each
# v1 controller's (and the unified one without controllers) otherwise.
if [ -e /sys/fs/cgroup/cgroup.procs ]; then
	hierarchies=(/sys/fs/cgroup)
else
	hierarchies=()
	for h in /sys/fs/cgroup/*/; do
		[ -e "$h/cgroup.procs" ] && hierarchies+=("${h%/}")
	done
fi
[ "${#hierarchies[@]}" -gt 0 ] || {
	echo "cgroupmove.sh: no cgroup hierarchy under /sys/fs/cgroup" >&2
	exit 1
}

sleeper=""
made=()
clean_up() {
	[ -z "$sleeper" ] || { kill "$sleeper" 2>/dev/null || true; wait "$sleeper" 2>/dev/null || true; }
	local d
	for d in "${made[@]}"; do rmdir "$d" 2>/dev/null || true; done
	for d in "${hierarchies[@]}"; do rmdir "$d/$parent" 2>/dev/null || true; done
}
trap clean_up EXIT

firsts=$(mktemp)
others=$(mktemp)
selves=$(mktemp)
trap 'clean_up; rm -f "$firsts" "$others" "$selves"' EXIT
# make_cgroup DIR: DIR made, below an existing one. cpuset refuses a task
# until its cgroup has CPUs and memory nodes: a new one gets its parent's.
make_cgroup() {
	[ -d "$1" ] || mkdir "$1"
	if [ -e "$1/cpuset.cpus" ] && [ -z "$(cat "$1/cpuset.cpus")" ]; then
		cat "$(dirname "$1")/cpuset.cpus" >"$1/cpuset.cpus"
		cat "$(dirname "$1")/cpuset.mems" >"$1/cpuset.mems"
	fi
}

for round in $(seq "$rounds"); do
	sleep 60 &
	sleeper=$!
	made=()
	for h in "${hierarchies[@]}"; do
		make_cgroup "$h/$parent"
		d=$h/$parent/move-$round
		make_cgroup "$d"
		made+=("$d")
	done
	sleep 0.1 # as between two runs: the semaphore is back on its fast path
	# A bash of its own, one thread, moves itself into the first v1
	# cgroup, and exits (which leaves the cgroup empty again).
	if [ -e "${made[0]}/tasks" ]; then
		bash -c 't0=${EPOCHREALTIME/./}; echo 0 >"$1/tasks"; t1=${EPOCHREALTIME/./}; echo $((t1 - t0))' _ "${made[0]}" >>"$selves"
	fi
	first=1
	for d in "${made[@]}"; do
		t0=${EPOCHREALTIME/./}
		echo "$sleeper" >"$d/cgroup.procs"
		t1=${EPOCHREALTIME/./}
		if [ "$first" = 1 ]; then
			echo $((t1 - t0)) >>"$firsts"
			first=0
		else
			echo $((t1 - t0)) >>"$others"
		fi
	done
	kill "$sleeper"
	wait "$sleeper" 2>/dev/null || true
	sleeper=""
	for d in "${made[@]}"; do rmdir "$d"; done
	made=()
done

# median FILE: the median of its numbers (µs), in ms
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { if (NR == 0) { print "0.00"; exit } m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.2f", m / 1000 }'; }
self="-"
[ ! -s "$selves" ] || self=$(median "$selves")
printf '%s\t%s\t%s\n' "$(median "$firsts")" "$(median "$others")" "$self"
