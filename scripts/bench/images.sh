#!/usr/bin/env bash
# images.sh: the cost of commit and export, from the images chapter on,
# next to GNU tar writing the same tree and sha256sum hashing the result
# (what commit and export do: a tar, and its digest). A container writes
# 200 MB of random data into its layer; then hyperfine times, as medians:
#   commit   mydocker commit             vs  tar of the container's upper directory + sha256sum
#   export   mydocker export -o FILE     vs  tar of the upper directory and the image's layer + sha256sum
# and it prints a Markdown table. It removes what it made.
#
# Usage: images.sh MYDOCKER STATE_ROOT CGROUP_PARENT OUT_DIR RUNS [MEGABYTES]
set -euo pipefail
mydocker=$1 root=$2 parent=$3 out=$4 runs=$5 mb=${6:-200}
md() { "$mydocker" --root "$root" "$@"; }
cleanup() {
	md rm -f bench-writer >/dev/null 2>&1 || true
	md rmi bench-commit >/dev/null 2>&1 || true
	rm -f "$out/gnu.tar" "$out/export.tar"
}
trap cleanup EXIT
cleanup
# From the netns chapter on, no network: the bench must not make the
# default bridge, nor its rules, on the host.
net=()
case $(md run --help) in *--network*) net=(--network none) ;; esac
md run --name bench-writer --cgroup-parent "$parent" "${net[@]}" busybox sh -c \
	"mkdir /big && for i in \$(seq $mb); do dd if=/dev/urandom of=/big/f\$i bs=1M count=1 2>/dev/null; done" >/dev/null
upper=$root/containers/$(md inspect -f '{{.Id}}' bench-writer)/upper
layer=$(ls -d "$root"/layers/[0-9a-f]*/ | head -n 1)
hyperfine --style none --warmup 1 --runs "$runs" --export-json "$out/images.json" \
	-n commit "$mydocker --root $root commit bench-writer bench-commit" \
	-n tar-commit "sh -c 'tar -cf $out/gnu.tar -C $upper . && sha256sum $out/gnu.tar'" \
	-n export "$mydocker --root $root export -o $out/export.tar bench-writer" \
	-n tar-export "sh -c 'tar -cf $out/gnu.tar -C $upper . -C $layer . && sha256sum $out/gnu.tar'" >/dev/null
jq -r --arg mb "$mb" '
	(.results | map({(.command): .median}) | add) as $m
	| "| \($mb) MB written by a container | mydocker | GNU tar + sha256sum | ratio |",
	  "| --- | --- | --- | --- |",
	  "| commit | \($m.commit * 1000 | floor) ms | \($m["tar-commit"] * 1000 | floor) ms | \($m.commit / $m["tar-commit"] * 100 | floor / 100)x |",
	  "| export | \($m.export * 1000 | floor) ms | \($m["tar-export"] * 1000 | floor) ms | \($m.export / $m["tar-export"] * 100 | floor / 100)x |"
' "$out/images.json"
