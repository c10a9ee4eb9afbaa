#!/usr/bin/env bash
# sandbox.sh: run a command (the transcripts checker) as root in a mount
# namespace of its own, with a fresh tmpfs at /var/lib/mydocker and another
# at /tmp, so that the transcripts show the book's paths, and neither the
# machine's own state root nor its /tmp is touched by what they make; and
# in a network namespace of its own, so that the default bridge mydocker0
# that the network chapters make (and keep, as Docker keeps docker0) goes
# away with it; forwarding starts off there, as on a fresh machine. If
# /var/lib/mydocker did not exist, it is removed again.
#
# Usage (as root): scripts/transcripts/sandbox.sh COMMAND [ARG...]
set -euo pipefail
root=/var/lib/mydocker
created=0
if [ ! -d "$root" ]; then
	mkdir -p "$root"
	created=1
fi
# The network chapter's texts name network namespaces (ip netns add): their
# files go to a tmpfs of the sandbox's too.
mkdir -p /run/netns
status=0
# shellcheck disable=SC2016 # $0 and $@ are the inner shell's: the root, then the command
unshare --mount --net --propagation private sh -c 'ip link set lo up && echo 0 > /proc/sys/net/ipv4/ip_forward && mount -t tmpfs -o mode=0700 tmpfs "$0" && mount -t tmpfs -o mode=1777 tmpfs /tmp && mount -t tmpfs -o mode=0755 tmpfs /run/netns && exec "$@"' \
	"$root" "$@" || status=$?
if [ "$created" = 1 ]; then
	rmdir "$root" 2>/dev/null || true
fi
exit "$status"
