#!/usr/bin/env bash
# run.sh: run one stage's integration tests on a cgroup v2 host: a throwaway
# QEMU VM (software emulation) booting Debian's kernel with the initramfs of
# build-initramfs.sh. Streams the VM's console and exits with the tests'
# exit status, or 1 when the VM crashed or timed out before reporting one.
#
# Usage: scripts/vm/run.sh [SLUG]        (make test-vm [CH=SLUG])
# Environment:
#   VM_CACHE       download cache (default build/vm-cache)
#   VM_TIMEOUT     seconds before the VM is killed (default 1200)
#   VM_TEST_ARGS   extra flags for the test binary, e.g. -test.run=TestHostname
#   VM_RUN         all (default): the chapter's cgroup v2 transcripts, then
#                  the integration tests; tests or transcripts: one of them
#   STAGE_DIR      test this source tree (absolute, or relative to the
#                  repository) instead of a generated stage
set -euo pipefail

cd "$(dirname "$0")/../.."
slug=${1:-}
timeout=${VM_TIMEOUT:-1200}
out=build/vm
mkdir -p "$out"
now() { echo "$EPOCHREALTIME"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

t0=$(now)
kdir=$(scripts/vm/fetch-kernel.sh "${VM_CACHE:-build/vm-cache}")
fetched=$(since "$t0")
t1=$(now)
scripts/vm/build-initramfs.sh "$kdir" "$out/initramfs.gz" "$slug"
echo "[vm] kernel and tools: ${fetched}s, initramfs: $(since "$t1")s"

# No network card, no display: the console is the serial port, on stdout.
# qboot is a quicker and quieter firmware than SeaBIOS for booting a kernel
# directly. cgroup_no_v1=all keeps every controller on the v2 hierarchy.
# norandmaps turns address space randomization off: QEMU 7.2 (Debian 12's)
# finds the code it has already translated by virtual address too, so a
# dynamically linked program such as iptables, whose libraries land at new
# addresses in every process, is translated anew each time it runs. An
# iptables command then takes about 0.1s instead of 0.02s, and mydocker
# runs dozens of them for each test's network.
kernel=$kdir/vmlinux
[ -f "$kernel" ] || kernel=$kdir/vmlinuz
append="console=ttyS0 quiet panic=-1 cgroup_no_v1=all norandmaps"
[ -z "${VM_TEST_ARGS:-}" ] || append+=" MYDOCKER_TEST_ARGS=\"$VM_TEST_ARGS\""
[ -z "${VM_RUN:-}" ] || append+=" MYDOCKER_VM_RUN=$VM_RUN"
echo "[vm] booting kernel $(cat "$kdir/version") (timeout ${timeout}s)"
start=$(now)
set +e
timeout --foreground -k 10 "$timeout" qemu-system-x86_64 -accel tcg -m 2048 -smp 2 \
	-nographic -vga none -nic none -no-reboot -bios qboot.rom \
	-kernel "$kernel" -initrd "$out/initramfs.gz" -append "$append" </dev/null |
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line%$'\r'}
		case $line in MYDOCKER-VM-BOOTED:*) echo "[vm] booted: $(since "$start")s after QEMU started, ${line#*: }" ;; esac
		printf '%s\n' "$line"
		printf '%s\n' "$line" >&3
	done 3>"$out/console.log"
status=("${PIPESTATUS[@]}")
set -e

result=$(sed -n 's/^MYDOCKER-VM-RESULT: \([0-9]*\)$/\1/p' "$out/console.log" | tail -n 1)
echo "[vm] the VM ran for $(since "$start")s; console in $out/console.log"
if [ -z "$result" ]; then
	if [ "${status[0]}" = 124 ] || [ "${status[0]}" = 137 ]; then
		echo "[vm] FAIL: the VM timed out after ${timeout}s without reporting a result"
	else
		echo "[vm] FAIL: the VM stopped (QEMU exit status ${status[0]}) without reporting a result: it crashed?"
	fi
	exit 1
fi
case ${VM_RUN:-all} in
transcripts) what="the cgroup v2 transcripts" ;;
tests) what="the integration tests" ;;
*) what="the cgroup v2 transcripts and the integration tests" ;;
esac
if [ "$result" = 0 ]; then
	echo "[vm] PASS: $what passed on cgroup v2"
else
	echo "[vm] FAIL: $what exited with status $result"
fi
exit "$result"
