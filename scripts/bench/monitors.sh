#!/usr/bin/env bash
# monitors.sh: the memory of mydocker's monitors, from the detach chapter on:
# it starts 10 containers with `run -d` (each with its monitor, idle once the
# container runs), reads each monitor's /proc/PID/smaps_rollup, and prints
# the averages and the largest, in kB, as a Markdown table:
#   Anonymous  the monitor's own memory, which no other process shares
#              (its heap, stacks and runtime structures): the cost of one
#              more container, and the figure the goal is about;
#   Rss        all it has in memory, the binary's shared pages included;
#   Pss        Rss with each shared page divided among the processes that map
#              it: with 10 monitors of one binary, its code counts a tenth.
# Then it removes the containers.
#
# Usage: monitors.sh MYDOCKER STATE_ROOT CGROUP_PARENT
set -euo pipefail
mydocker=$1 root=$2 parent=$3
count=10
net=() # as run.sh: no bridge, from the netns chapter on
case $("$mydocker" run --help) in *--network*) net=(--network none) ;; esac
ids=()
cleanup() { [ ${#ids[@]} = 0 ] || "$mydocker" --root "$root" rm -f "${ids[@]}" >/dev/null; }
trap cleanup EXIT
for _ in $(seq "$count"); do
	ids+=("$("$mydocker" --root "$root" run -d --rm "${net[@]}" --cgroup-parent "$parent" busybox sleep 600)")
done
sleep 1 # the monitors are idle: the containers run
for id in "${ids[@]}"; do
	pid=$("$mydocker" --root "$root" inspect -f '{{.State.Pid}}' "$id")
	monitor=$(awk '{ print $4 }' "/proc/$pid/stat") # the init's parent
	awk '/^(Anonymous|Rss|Pss):/ { v[$1] = $2 } END { print v["Anonymous:"], v["Rss:"], v["Pss:"] }' "/proc/$monitor/smaps_rollup"
done | awk -v n="$count" '
	{ for (i = 1; i <= 3; i++) { sum[i] += $i; if ($i > top[i]) top[i] = $i } }
	END {
		print "| per monitor, with " n " running | average | largest |"
		print "| --- | --- | --- |"
		split("private (anonymous)|RSS|PSS", name, "|")
		for (i = 1; i <= 3; i++) printf "| %s | %.0f kB | %d kB |\n", name[i], sum[i] / n, top[i]
	}'
