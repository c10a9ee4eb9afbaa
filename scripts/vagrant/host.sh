# host.sh: the host's side of `make vagrant-test` (sourced by test.sh): its
# tools, libvirt's daemons, and putting the host back as it was.

host_packages=(
	vagrant vagrant-libvirt # Vagrant and its libvirt provider
	libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils
	dnsmasq-base # DHCP and DNS of libvirt's networks
	rsync        # the synced folder, where there is no NFS server
	debootstrap fdisk extlinux syslinux-common zerofree # box.sh
)

# install_host_tools installs what is missing. Where systemd runs, the
# packages would start libvirt's daemons for good: apt-install-stopped.sh
# keeps them stopped, and start_libvirt runs them while needed.
install_host_tools() {
	local missing=() p
	for p in "${host_packages[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
	done
	[ ${#missing[@]} -gt 0 ] || return 0
	echo "=== vagrant-test: installing ${missing[*]}"
	"$repo/scripts/apt-install-stopped.sh" --no-install-recommends "${missing[@]}"
}

# What libvirt had before us, so that clean_up removes only what is ours.
daemons_started=()
networks_before=""
active_networks_before=""
pools_before=""
volumes_before=""

# start_libvirt uses the libvirtd that runs, or starts one with its two
# helpers, as systemd would (there may be no systemd: a container, CI).
start_libvirt() {
	local d
	if ! virsh version >/dev/null 2>&1; then
		echo "=== vagrant-test: starting virtlogd, virtlockd and libvirtd"
		for d in virtlogd virtlockd libvirtd; do
			"$d" --daemon --pid-file "/run/mydocker-vagrant-test-$d.pid"
			daemons_started+=("$d")
		done
		wait_for 30 virsh version
	fi
	networks_before=$(virsh net-list --all --name | sort)
	# A libvirtd we started brings up the networks marked autostart: they
	# count as ours, to be stopped again.
	[ ${#daemons_started[@]} -gt 0 ] || active_networks_before=$(virsh net-list --name | sort)
	pools_before=$(virsh pool-list --all --name | sort)
	volumes_before=$(all_volumes)
}

all_volumes() {
	local pool
	for pool in $(virsh pool-list --name); do
		# (vol-list has no --name before libvirt 9.x: skip its two header lines)
		virsh vol-list --pool "$pool" | awk -v pool="$pool" 'NR > 2 && NF { print pool, $1 }'
	done | sort
}

# wait_for SECONDS CMD...: until CMD succeeds.
wait_for() {
	local until=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $until ] || { echo "vagrant-test: timed out waiting for: $*" >&2; return 1; }
		sleep 0.5
	done
}

# copy_checkout DIR: this checkout's files as git sees them (tracked, and
# untracked but not ignored: what a reader's clone holds, edits included),
# and its .git, without build/.
copy_checkout() {
	rm -rf "$1"
	mkdir -p "$1"
	(cd "$repo" && git ls-files -z --cached --others --exclude-standard) |
		rsync -a --from0 --files-from=- --ignore-missing-args "$repo/" "$1/"
	rsync -a "$repo/.git" "$1/"
}

# clean_up removes what this run made; it goes on past a failure and fails
# at the end.
clean_up() {
	local failed=0 net pool vol d pidfile
	if [ -d "$VAGRANT_DOTFILE_PATH" ] && [ -d "$work/repo" ]; then
		(cd "$work/repo" && vagrant destroy -f) || failed=1
	fi
	if [ -d "$VAGRANT_HOME" ]; then
		vagrant box remove --force --all "$box_name" >/dev/null 2>&1 || true
	fi
	if virsh version >/dev/null 2>&1; then
		# vagrant-libvirt uploads the box into a pool volume and leaves it.
		while read -r pool vol; do
			[ -z "$vol" ] || virsh vol-delete --pool "$pool" "$vol" >/dev/null || failed=1
		done < <(comm -13 <(echo "$volumes_before") <(all_volumes))
		for net in $(comm -13 <(echo "$active_networks_before") <(virsh net-list --name | sort)); do
			virsh net-destroy "$net" >/dev/null || failed=1
		done
		for net in $(comm -13 <(echo "$networks_before") <(virsh net-list --all --name | sort)); do
			virsh net-undefine "$net" >/dev/null || failed=1
		done
		for pool in $(comm -13 <(echo "$pools_before") <(virsh pool-list --all --name | sort)); do
			virsh pool-destroy "$pool" >/dev/null 2>&1 || true
			virsh pool-undefine "$pool" >/dev/null || failed=1
		done
	fi
	for d in "${daemons_started[@]}"; do
		pidfile=/run/mydocker-vagrant-test-$d.pid
		[ -s "$pidfile" ] && stop_pid "$(cat "$pidfile")" && rm -f "$pidfile"
	done
	remove_libvirt_chains
	restore_ip_forward
	rm -rf "$VAGRANT_HOME" "$VAGRANT_DOTFILE_PATH" "$work/repo"
	return "$failed"
}

stop_pid() {
	kill "$1" 2>/dev/null || return 0
	local until=$((SECONDS + 20))
	while kill -0 "$1" 2>/dev/null && [ $SECONDS -lt $until ]; do sleep 0.2; done
	kill -9 "$1" 2>/dev/null || true
}

# libvirt's firewall chains outlive its networks and its daemon; those that
# were not there before this run go, with the rules that jump to them.
remove_libvirt_chains() {
	local tool table chain rule
	for tool in iptables ip6tables; do
		for table in filter nat mangle; do
			for chain in $({ "$tool-save" -t "$table" 2>/dev/null || true; } | sed -n 's/^:\(LIBVIRT_[A-Z]*\) .*/\1/p'); do
				grep -qx -- "$tool $table $chain" "$work/chains.before" && continue
				"$tool-save" -t "$table" | grep -- "-j $chain\$" | sed 's/^-A/-D/' | while read -r rule; do
					# shellcheck disable=SC2086 # a rule is words
					"$tool" -t "$table" $rule
				done
				"$tool" -t "$table" -F "$chain"
				"$tool" -t "$table" -X "$chain"
			done
		done
	done
}

restore_ip_forward() {
	local was
	was=$(sed -n 's/^# ip_forward //p' "$work/fingerprint.before")
	[ -z "$was" ] || echo "$was" >/proc/sys/net/ipv4/ip_forward
}

# take_fingerprint FILE: the host's state that a VM's networking could
# change, and that must be the same after clean_up.
take_fingerprint() {
	{
		echo "# links"
		ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | sort
		echo "# iptables"
		rules_of iptables-save
		echo "# ip6tables"
		rules_of ip6tables-save
		echo "# mounts"
		findmnt -rn -o TARGET,FSTYPE | sort
		echo "# ip_forward $(cat /proc/sys/net/ipv4/ip_forward)"
	} >"$1"
}

# rules_of iptables-save|ip6tables-save: the tables without their counters
# and comments, and without the tables that hold nothing: libvirt makes the
# filter, nat and mangle tables where there were none, and iptables-nft
# cannot remove a table again; one with only its built-in chains, empty and
# accepting, filters nothing.
rules_of() {
	"$1" | sed -e '/^#/d' -e 's/ \[[0-9]*:[0-9]*\]$//' | awk '
		/^\*/ { table = $0; block = ""; busy = 0; next }
		/^COMMIT/ { if (busy) printf "%s\n%sCOMMIT\n", table, block; next }
		/^:/ && $2 != "ACCEPT" { busy = 1 }
		!/^:/ { busy = 1 }
		{ block = block $0 "\n" }'
}

# note_libvirt_chains: the chains that remove_libvirt_chains must leave.
note_libvirt_chains() {
	local tool table
	for tool in iptables ip6tables; do
		for table in filter nat mangle; do
			{ "$tool-save" -t "$table" 2>/dev/null || true; } | sed -n "s/^:\(LIBVIRT_[A-Z]*\) .*/$tool $table \1/p"
		done
	done >"$work/chains.before"
}

same_fingerprint() {
	take_fingerprint "$work/fingerprint.after"
	if ! diff -u "$work/fingerprint.before" "$work/fingerprint.after"; then
		echo "vagrant-test: the host is not as it was before (diff above)" >&2
		return 1
	fi
}
