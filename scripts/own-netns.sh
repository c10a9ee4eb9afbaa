#!/usr/bin/env bash
# own-netns.sh: run a command (the integration tests) as root in a network
# namespace of its own, made for it and gone with it. Bridges, veths,
# iptables rules and the network's sysctls all belong to a network
# namespace: the tests make and break them in this one (FORWARD's policy
# set to DROP, forwarding off), never in the host's, so that they can
# neither disturb the host and its other software nor be disturbed by
# their rules. It starts as a fresh machine does: lo up, no rules,
# forwarding off.
#
# Usage (as root): scripts/own-netns.sh COMMAND [ARG...]
set -euo pipefail
# shellcheck disable=SC2016 # $@ is the inner shell's
# The policies are set once, which makes the filter and nat tables exist
# with their chains, as on a machine where iptables was ever used: the
# first test that adds a rule would otherwise leave them behind.
exec unshare --net sh -c '
	ip link set lo up && echo 0 > /proc/sys/net/ipv4/ip_forward &&
	for chain in INPUT FORWARD OUTPUT; do iptables -t filter -P $chain ACCEPT; done &&
	for chain in PREROUTING INPUT OUTPUT POSTROUTING; do iptables -t nat -P $chain ACCEPT; done &&
	exec "$@"' own-netns "$@"
