#!/usr/bin/env bash
# profile.sh: where the time of one `mydocker run busybox true` goes, step by
# step, as a markdown table of medians over several runs.
#
# Usage (as root): scripts/bench/profile.sh MYDOCKER STATE_ROOT CGROUP_PARENT [RUNS [BEFORE BEFORE_ROOT]]
# (scripts/bench/run.sh calls it; STATE_ROOT must hold images/busybox.tar)
# With BEFORE, another build of the same stage with its own state root, the
# table has a column for each: the before/after of a change.
#
# WHY perf record and not strace: strace stops the traced process at every
# system call it reports, which here doubles the time of a whole run and
# inflates the steps that make many calls most. perf record reads the
# kernel's tracepoints from a buffer instead, and only those of the few
# system calls that mark the steps are enabled (perf trace would trace
# every system call and drop the others afterwards, which doubles the time
# of a run too), so the run keeps close to its pace.
# WHY no --debug: perf shows no file names, but a run always makes its calls
# in the same order, so the calls themselves mark the steps (see the awk
# program below) without changing what mydocker does.
set -euo pipefail

mydocker=${1:?usage: $0 MYDOCKER STATE_ROOT CGROUP_PARENT [RUNS [BEFORE BEFORE_ROOT]]}
root=${2:?state root}
parent=${3:?cgroup parent}
runs=${4:-20}
before=${5:-}
before_root=${6:-}
for tool in perf hyperfine jq; do
	command -v $tool >/dev/null || {
		echo "profile.sh: $tool is missing (perf: apt-get install linux-perf on Debian)" >&2
		exit 1
	}
done

trace=$(mktemp)
data=$(mktemp)
times=$(mktemp)
times_before=$(mktemp)
json=$(mktemp)
trap 'rm -f "$trace" "$data" "$times" "$times_before" "$json"' EXIT

# The sched events mark each exec and exit; the first mkdirat is the
# container's directory; reads of 32 KiB (io.Copy's buffer) before the clone
# are the image's archive being hashed, when its digest is not cached.
# From the security chapter on, the init hardens the container between
# pivot_root and the exec: masks and read-only paths (mounts), then the
# seccomp filter, then capset; their own calls mark those steps, and the
# close_range that follows marks the end of the capability step. The
# init's first read of its config pipe (descriptor 3) marks the end of its
# start: from there it waits. A mydocker that moves its init into its
# cgroups after the clone (before the chapter exec, and the baseline) moves
# it meanwhile: the cgroup tracepoint marks those moves, and the init's
# row ends with the later of the two.
events=sched:sched_process_exec,sched:sched_process_exit,cgroup:cgroup_attach_task
for call in read mkdirat clone clone3 mount pivot_root seccomp capset close_range unlinkat; do
	events=$events,syscalls:sys_enter_$call
done
hardened=0
case $("$mydocker" run --help) in *cap-add*) hardened=1 ;; esac
rm_flag="" # from the detach chapter on, what keeps no stopped container
case $("$mydocker" run --help) in *--rm*) rm_flag=--rm ;; esac
# As run.sh: runc's network setup, a namespace with nothing in it.
case $("$mydocker" run --help) in *--network*) rm_flag="$rm_flag --network none" ;; esac
if [ "$hardened" = 1 ]; then
	marks="start mkdir clone init joined mount pivot seccomp capset closed cmd exit rm0 rm1 end"
else
	marks="start mkdir clone init joined mount pivot cmd exit rm0 rm1 end"
fi

# trace_once BINARY ROOT TIMES: one traced run, one line into TIMES
trace_once() {
	perf record -q -o "$data" -e "$events" -- \
		"$1" --root "$2" run $rm_flag --cgroup-parent "$parent" busybox true
	# perf script prints the events in the order of their times, one a line:
	# the command's name, PID/TID, the time in seconds, the event and its
	# fields ("fd: 0x00000003, ..." for a system call, "pid=1234 ..." for
	# the scheduler and cgroup events).
	perf script -i "$data" -F comm,pid,tid,time,event,trace >"$trace" 2>/dev/null
	# One line per run: the step durations (ms), the total, and the time
	# spent hashing.
	awk -v marks="$marks" '
	function first(k) { if (!(k in t) || now < t[k]) t[k] = now }
	function last(k)  { if (!(k in t) || now > t[k]) t[k] = now }
	{
		for (i = 2; i < NF; i++) if ($i ~ /^[0-9]+\.[0-9]+:$/) break
		if (i == NF) next
		now = 1000 * substr($i, 1, length($i) - 1); split($(i - 1), id, "/"); pid = id[1]; event = $(i + 1)
	}
	event == "sched:sched_process_exec:" {
		n++
		if (n == 1) first("start")            # mydocker itself
		if (n == 2) { first("init"); match($0, /pid=[0-9]+/); initpid = substr($0, RSTART + 4, RLENGTH - 4) }
		if (n == 3) first("cmd")              # the init became the command
	}
	event == "cgroup:cgroup_attach_task:" && initpid != "" && $0 ~ "pid=" initpid " " && !("mount" in t) { last("joined") }
	event == "syscalls:sys_enter_read:" && pid == initpid && / fd: 0x0*3,/ { first("waits") }
	event == "syscalls:sys_enter_read:" && /count: 0x0*8000$/ && !("clone" in t) { first("hash0"); last("hash1") }
	event == "syscalls:sys_enter_mkdirat:"     { first("mkdir") }
	# The init, cloned with CLONE_NEWPID (0x20000000) among its flags; or
	# cloned into its cgroup with clone3, whose flags are in memory.
	event == "syscalls:sys_enter_clone:" && /clone_flags: 0x[2367abef][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f],/ { first("clone") }
	event == "syscalls:sys_enter_clone3:"      { first("clone") }
	event == "syscalls:sys_enter_mount:"       { first("mount") }
	event == "syscalls:sys_enter_pivot_root:"  { first("pivot") }
	event == "syscalls:sys_enter_seccomp:"     { first("seccomp") }
	event == "syscalls:sys_enter_capset:"      { first("capset") }
	event == "syscalls:sys_enter_close_range:" && ("capset" in t) { first("closed") }
	event == "sched:sched_process_exit:" {
		last("end")
		if (initpid != "" && $0 ~ "pid=" initpid " ") first("exit")
	}
	event == "syscalls:sys_enter_unlinkat:"    { first("rm0"); last("rm1") }
	END {
		# The init'"'"'s row ends when it waits for its config and, where it is
		# moved after the clone, is in its cgroups.
		if (("waits" in t) && (!("joined" in t) || t["joined"] < t["waits"])) t["joined"] = t["waits"]
		if (("joined" in t) && ("init" in t) && t["joined"] < t["init"]) t["joined"] = t["init"]
		n = split(marks, k, " ")
		for (i = 1; i <= n; i++) if (!(k[i] in t)) { print "profile.sh: no mark " k[i] " in one run (perf lost an event?): run skipped" > "/dev/stderr"; exit 0 }
		for (i = 2; i <= n; i++) printf "%.3f\t", t[k[i]] - t[k[i - 1]]
		printf "%.3f\t%.3f\n", t["end"] - t["start"], ("hash0" in t) ? t["hash1"] - t["hash0"] : 0
	}' "$trace" >>"$3"
}
# With two builds, they take turns, so that a burst of other work on the
# machine does not land on one of them only.
for _ in $(seq "$runs"); do
	trace_once "$mydocker" "$root" "$times"
	[ -z "$before" ] || trace_once "$before" "$before_root" "$times_before"
done
# A run whose trace lost an event is skipped above; too many lost is an error.
for t in "$times" ${before:+"$times_before"}; do
	kept=$(wc -l <"$t")
	[ "$kept" -ge $(((runs + 1) / 2)) ] || {
		echo "profile.sh: only $kept of $runs runs had every mark" >&2
		exit 1
	}
done
kept=$(wc -l <"$times")

# The steps, in the order of the marks above.
steps=(
	"mydocker starts: Go runtime, package init, flags, image lookup"
	"container directories, cgroups in every hierarchy, pipes"
	"clone(new namespaces) and exec of the init"
	"the init starts (Go runtime, package init) until it waits for its config; a mydocker that moves it into its cgroups meanwhile waits for an RCU grace period"
	"the rest of create and start: network, state file, its config; the init reads it"
	"mounts: overlay, /proc, /sys, /dev..., devices, pivot_root"
)
if [ "$hardened" = 1 ]; then
	steps+=(
		"hardening: masked and read-only paths in /proc and /sys"
		"hardening: the seccomp filter loaded"
		"hardening: capabilities limited"
	)
fi
steps+=("the init tells mydocker it is ready, waits for its go, and execs")
steps+=(
	"the command runs (true)"
	"mydocker notices the exit"
	"cleanup: rmdir of the cgroups, removal of the container directory"
	"mydocker exits"
)
# median COLUMN [TIMES]
median() { cut -f"$1" "${2:-$times}" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
total=$(median $((${#steps[@]} + 1)))
if [ -z "$before" ]; then
	echo "| step | median (ms) | share |"
	echo "| --- | ---: | ---: |"
	for i in "${!steps[@]}"; do
		awk -v s="${steps[$i]}" -v m="$(median $((i + 1)))" -v t="$total" 'BEGIN { printf "| %s | %.1f | %.0f%% |\n", s, m, 100 * m / t }'
	done
	awk -v t="$total" -v n="$kept" 'BEGIN { printf "| **whole run, traced** (median of %d) | **%.1f** | |\n", n, t }'
else
	echo "| step | before (ms) | now (ms) | change (ms) | share now |"
	echo "| --- | ---: | ---: | ---: | ---: |"
	for i in "${!steps[@]}"; do
		awk -v s="${steps[$i]}" -v b="$(median $((i + 1)) "$times_before")" -v m="$(median $((i + 1)))" -v t="$total" \
			'BEGIN { printf "| %s | %.1f | %.1f | %+.1f | %.0f%% |\n", s, b, m, m - b, 100 * m / t }'
	done
	awk -v b="$(median $((${#steps[@]} + 1)) "$times_before")" -v t="$total" -v n="$kept" \
		'BEGIN { printf "| **whole run, traced** (median of %d) | **%.1f** | **%.1f** | **%+.1f** | |\n", n, b, t, t - b }'
fi
echo
awk -v h="$(median $((${#steps[@]} + 2)))" 'BEGIN { if (h > 0) printf "Of the first step, hashing the image archive took %.1f ms.\n", h
	else print "The image archive was not read: its digest was cached." }'
echo

# Package initialisers run before main, in the parent and again in the init:
# GODEBUG=inittrace=1 makes the Go runtime print what each one costs.
GODEBUG=inittrace=1 "$mydocker" --help 2>&1 >/dev/null | awk '
	/^init / { s += $5; if ($5 > max) { max = $5; name = $2 } }
	END { printf "Package initialisers, in one `mydocker --help` (GODEBUG=inittrace=1): %.1f ms in all; the largest is %s, %.1f ms.\n", s, name, max }'
echo

# For scale: a Go start and nothing else, untraced.
hyperfine -N --runs 20 --export-json "$json" "$mydocker --help" >/dev/null
jq -r '.results[0].median * 1000 | "For scale, `mydocker --help`, a Go start that does nothing else, takes \(. * 10 | round / 10) ms (median, untraced)."' "$json"
