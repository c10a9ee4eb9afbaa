#!/usr/bin/env bash
# network.sh: the cost of a container's network, from the netns chapter on:
# `mydocker run --rm busybox true` with --network none (a namespace with lo
# alone, as the main comparison runs it) and with the default bridge (a
# veth pair, an address from IPAM, the files of /etc; from the bridge
# chapter on, the network's rules are already there), beside runc with its
# default configuration (a network namespace with nothing in it). It prints
# a Markdown table of the three and the difference the bridge makes.
#
# It runs in a network namespace of its own (scripts/own-netns.sh): the
# default network's bridge and rules are made there, and go with it.
#
# Usage: network.sh MYDOCKER STATE_ROOT CGROUP_PARENT RUNC_COMMAND WARMUP RUNS
set -euo pipefail
mydocker=$1 root=$2 parent=$3 runc_cmd=$4 warmup=$5 runs=$6
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
none="$mydocker --root $root run --rm --network none --cgroup-parent $parent busybox true"
bridge="$mydocker --root $root run --rm --cgroup-parent $parent busybox true"
# The bridge's first run makes the network (its bridge, its rules and the
# forwarding warning): not what is timed.
scripts/own-netns.sh sh -c '
	$1 2>/dev/null || exit 1
	hyperfine -N --style none --warmup "$2" --runs "$3" --export-json "$4/network.json" \
		-n "mydocker, --network none" "$5" -n "mydocker, default bridge" "$1" -n "runc, its default network namespace" "$6" >/dev/null
' network "$bridge" "$warmup" "$runs" "$out" "$none" "$runc_cmd"
jq -r '.results[] | [.command, .mean, .median, .min] | @tsv' "$out/network.json" | awk -F'\t' '
	BEGIN { print "| run --rm busybox true | mean | median | fastest |"; print "| --- | --- | --- | --- |" }
	{ printf "| %s | %.1f ms | %.1f ms | %.1f ms |\n", $1, $2 * 1000, $3 * 1000, $4 * 1000; median[NR] = $3 * 1000 }
	END { printf "\nThe default bridge costs %.1f ms per container over --network none (medians).\n", median[2] - median[1] }'
