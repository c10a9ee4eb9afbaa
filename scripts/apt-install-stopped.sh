#!/usr/bin/env bash
# apt-install-stopped.sh [APT-OPTION...] PACKAGE...: install Debian packages without
# starting their services.
#
# WHY: where systemd runs, installing docker.io or libvirt-daemon-system
# starts their daemons for good (a docker0 bridge, libvirt's networks and
# iptables chains), which would change the host the tests fingerprint.
# Debian's maintainer scripts ask /usr/sbin/policy-rc.d before they start
# anything; one that exits 101 ("action forbidden") keeps them stopped.
# The tests start what they need by hand and stop it again. A policy-rc.d
# that was already there is left as it is.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 [APT-OPTION...] PACKAGE..." >&2; exit 2; }

policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 0755 /usr/sbin/policy-rc.d
	policy=/usr/sbin/policy-rc.d
fi
status=0
apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null || status=$?
[ -z "$policy" ] || rm -f "$policy"
exit "$status"
