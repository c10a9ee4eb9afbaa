#!/usr/bin/env bash
# test.sh: `make vagrant-test`. Boots the repository's own Vagrantfile, as a
# reader on macOS or Windows would, and runs the book's tests inside:
#
#   1. the host's tools: Vagrant, vagrant-libvirt, libvirt and QEMU (from
#      Debian's packages), and libvirt's daemons, started by hand when none
#      runs;
#   2. a Debian 12 box built here (box.sh), added under the name the
#      Vagrantfile asks for, in a Vagrant home of its own: the reader's own
#      boxes and settings are never touched;
#   3. `vagrant up` in a copy of this checkout (its tracked and untracked
#      files: what the reader has), which runs scripts/provision.sh inside;
#   4. inside: `make demo`, then the latest stage's tests (ALL=1: every
#      stage's, as `make test` runs them);
#   5. a summary, then everything it made destroyed: the VM, the box, the
#      pool volumes, libvirt's networks and firewall chains, the daemons
#      it started. The host's links, iptables rules, mounts and IP
#      forwarding are compared before and after.
#
# Root only; 60 to 85 minutes of software emulation where there is no KVM
# (on a 2-core machine; docs/testing.md). Knobs, in the environment:
#   ALL=1                   every stage's tests, not only the latest's
#   VAGRANT_TEST_DIR=DIR    where the box, the Vagrant home and the copy go
#                           (default build/vagrant)
#   VAGRANT_TEST_CA_DIR=DIR trust DIR's *.crt inside the VM too (a proxy that
#                           intercepts HTTPS with a CA of its own)
#   MYDOCKER_TEST_PATIENCE=N the tests' waits, N times the host's (default 5)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=${VAGRANT_TEST_DIR:-$repo/build/vagrant}
mkdir -p "$work"
work=$(cd "$work" && pwd)
# The name the Vagrantfile asks for. The box is Debian 12, not Ubuntu: it is
# built here, from the packages this machine can reach.
box_name=$(sed -n 's/^ *config\.vm\.box *= *"\(.*\)".*/\1/p' "$repo/Vagrantfile")

export VAGRANT_HOME=$work/vagrant.d
export VAGRANT_DOTFILE_PATH=$work/dotfile
export VAGRANT_DEFAULT_PROVIDER=libvirt
export VAGRANT_CHECKPOINT_DISABLE=1
export LIBVIRT_DEFAULT_URI=qemu:///system

. "$here/host.sh"

step_started=$SECONDS
summary=()
took() {
	local line
	line=$(printf '%-40s %4d s' "$1" $((SECONDS - step_started)))
	summary+=("$line")
	echo "=== vagrant-test: $line (total $SECONDS s)"
	step_started=$SECONDS
}

print_summary() {
	echo
	echo "== make vagrant-test: $1 in $SECONDS s =="
	printf '  %s\n' "${summary[@]}"
}

# doing NAME: what runs now, named in the summary if it fails.
current_step=""
doing() { current_step=$1; }

finish() {
	local status=$?
	trap - EXIT
	[ "$status" = 0 ] || [ -z "$current_step" ] || took "$current_step: FAILED"
	current_step=""
	step_started=$SECONDS
	if ! clean_up; then
		status=1
	fi
	took "clean up"
	# Compared after a failure too: a failed run must not leave the host
	# changed either.
	if ! same_fingerprint; then
		status=1
	fi
	if [ "$status" = 0 ]; then print_summary "passed"; else print_summary "FAILED"; fi
	exit "$status"
}

[ "$(id -u)" = 0 ] || { echo "make vagrant-test needs root: sudo make vagrant-test" >&2; exit 1; }
[ -n "$box_name" ] || { echo "no config.vm.box in $repo/Vagrantfile" >&2; exit 1; }

take_fingerprint "$work/fingerprint.before"
note_libvirt_chains
trap finish EXIT
trap 'exit 130' INT TERM # and finish cleans up

doing "host tools"
install_host_tools
took "host tools"
doing "libvirt"
start_libvirt
took "libvirt"

doing "box"
box=$work/debian12.box
if [ ! -s "$box" ] || [ "$box" -ot "$here/box.sh" ] || [ "$box" -ot "$repo/scripts/provision.sh" ]; then
	bash "$here/box.sh" "$box"
else
	echo "=== vagrant-test: reusing $box (newer than box.sh and provision.sh)"
fi
took "box"

doing "box add, checkout copied"
vagrant box add --force --name "$box_name" "$box" >/dev/null
copy_checkout "$work/repo"
took "box add, checkout copied"

cd "$work/repo"
doing "vagrant up, provision.sh inside"
# (Its upload's progress bar redraws one line with carriage returns: only
# the last drawing is kept.)
vagrant up --provider=libvirt 2>&1 | sed -u 's/.*\r//' | tee "$work/up.log"
took "vagrant up, provision.sh inside"

latest=$(cd "$repo" && "${GO:-go}" run ./scripts/stagegen chapters --tested | tail -n 1)
# The box runs under software emulation (its Vagrantfile asks for the qemu
# driver), several times slower than the host the tests' waits are sized
# for: they wait this many times longer (runner_test.go, patient).
patience="MYDOCKER_TEST_PATIENCE=${MYDOCKER_TEST_PATIENCE:-5}"
doing "make demo"
vagrant ssh -c "cd ~/mydocker && sudo make demo" 2>&1 | tee "$work/demo.log"
took "make demo"
if [ "${ALL:-0}" = 1 ]; then
	doing "every stage's tests"
	vagrant ssh -c "cd ~/mydocker && sudo $patience make test-stages" 2>&1 | tee "$work/tests.log"
	took "every stage's tests"
else
	doing "stage $latest's tests"
	vagrant ssh -c "cd ~/mydocker && sudo $patience make test-stage CH=$latest" 2>&1 | tee "$work/tests.log"
	took "stage $latest's tests"
fi
