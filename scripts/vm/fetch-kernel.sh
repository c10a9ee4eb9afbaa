#!/usr/bin/env bash
# fetch-kernel.sh: get what the cgroup v2 test VM boots. Installs the host
# tools it needs (QEMU, a static busybox, kmod, xz, iptables) if they are
# missing, downloads Debian's kernel package once into the cache, and
# extracts from it vmlinuz and the modules mydocker needs, with their
# dependencies, in the order they must be loaded.
#
# Usage: scripts/vm/fetch-kernel.sh [CACHE_DIR]      (default: build/vm-cache)
#
# Prints the kernel directory on standard output. It holds vmlinuz (and
# vmlinux, the same kernel uncompressed), config, version, and modules/ with
# the .ko files and load.list (one file name per line, in load order). A
# second run only prints the directory.
set -euo pipefail

cache=${1:-build/vm-cache}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

# The modules mydocker needs, now or in later chapters: overlayfs, veth
# pairs and bridges, and NAT with iptables (legacy and nft flavours).
# Their dependencies come from the package itself; built-in ones are skipped.
MODULES="overlay veth bridge br_netfilter
	nf_conntrack nf_nat nf_defrag_ipv4 nf_defrag_ipv6 libcrc32c
	x_tables ip_tables iptable_nat iptable_filter ip6_tables ip6table_nat ip6table_filter
	xt_MASQUERADE xt_conntrack xt_addrtype xt_nat xt_tcpudp xt_comment xt_mark
	nf_tables nft_compat nft_chain_nat nft_nat nft_masq nft_ct"

log() { echo "[vm] $*" >&2; }
die() {
	echo "[vm] error: $*" >&2
	exit 1
}

updated=
apt_update() {
	[ -n "$updated" ] && return
	log "apt-get update"
	apt-get update -qq >&2
	updated=1
}
# Wait for another apt or dpkg run rather than fail on its lock.
APT=(apt-get -o DPkg::Lock::Timeout=600)

# Host tools, installed only when missing.
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
[ "$(dpkg-query -W -f='${Status}' busybox-static 2>/dev/null)" = "install ok installed" ] || need+=(busybox-static)
command -v depmod >/dev/null || need+=(kmod)
command -v xz >/dev/null || need+=(xz-utils)
command -v bash-static >/dev/null || need+=(bash-static) # runs the cgroup v2 transcripts in the VM
[ -x /usr/sbin/xtables-nft-multi ] || need+=(iptables) # copied into the VM, with its libraries
if ((${#need[@]})); then
	[ "$(id -u)" = 0 ] || die "missing ${need[*]}: run as root, or apt-get install ${need[*]}"
	log "installing ${need[*]}"
	install=("${APT[@]}" install -y -q --no-install-recommends "${need[@]}")
	DEBIAN_FRONTEND=noninteractive "${install[@]}" >&2 ||
		{ apt_update && DEBIAN_FRONTEND=noninteractive "${install[@]}" >&2; }
fi

# linux-image-amd64 is a metapackage: the kernel is the versioned package it
# depends on, such as linux-image-6.1.0-56-amd64.
kernel_package() {
	apt-cache depends linux-image-amd64 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ && !pkg { pkg = $2 } END { print pkg }'
}
pkg=$(kernel_package)
[ -n "$pkg" ] || { apt_update && pkg=$(kernel_package); }
[ -n "$pkg" ] || die "apt-cache knows no linux-image-amd64: is this Debian, with its main archive in the sources?"
ver=${pkg#linux-image-}
kdir=$cache/kernel-$ver

# The cache is good when it was made from the same module list by the same
# version of this script (bump the number when what it extracts changes).
stamp="3 $MODULES"
if [ -f "$kdir/.done" ] && [ "$(cat "$kdir/.done")" = "$stamp" ]; then
	echo "$kdir"
	exit 0
fi

deb=$(find "$cache" -maxdepth 1 -name "${pkg}_*.deb" -print -quit)
if [ -z "$deb" ]; then
	log "downloading $pkg"
	# A stale package list names a file the mirror no longer has: update, retry.
	(cd "$cache" && apt-get download -q -o APT::Sandbox::User="$(id -un)" "$pkg" >&2) ||
		{ apt_update && (cd "$cache" && apt-get download -q -o APT::Sandbox::User="$(id -un)" "$pkg" >&2); }
	deb=$(find "$cache" -maxdepth 1 -name "${pkg}_*.deb" -print -quit)
	[ -n "$deb" ] || die "apt-get download $pkg left no .deb in $cache"
fi

log "extracting $(basename "$deb")"
tmp=$cache/extract
rm -rf "$tmp" "$kdir"
mkdir -p "$tmp" "$kdir/modules"
dpkg-deb -x "$deb" "$tmp"
moddir=$(find "$tmp" -maxdepth 4 -type d -path "*/lib/modules/$ver" -print -quit)
[ -n "$moddir" ] || die "no lib/modules/$ver in $deb"
base=${moddir%/lib/modules/"$ver"}
cp "$tmp/boot/vmlinuz-$ver" "$kdir/vmlinuz"
cp "$tmp/boot/config-$ver" "$kdir/config"
echo "$ver" >"$kdir/version"
# QEMU boots an uncompressed kernel directly through its PVH entry point,
# which saves the seconds that unpacking the xz-compressed vmlinuz takes
# under emulation. run.sh falls back on vmlinuz when there is no vmlinux.
off=$(LC_ALL=C grep -m 1 -abo $'\xfd7zXZ' "$kdir/vmlinuz" | awk -F: 'NR == 1 { print $1 }')
if grep -q '^CONFIG_PVH=y' "$kdir/config" && [ -n "$off" ]; then
	xz -dc --single-stream < <(tail -c +$((off + 1)) "$kdir/vmlinuz") >"$kdir/vmlinux" || rm -f "$kdir/vmlinux"
fi

# The package ships no modules.dep (it is made when the package is
# installed): make it, then let modprobe list each module's dependencies in
# load order ("insmod FILE"), or say it is built in ("builtin NAME").
depmod -b "$base" "$ver"
for m in $MODULES; do
	modprobe -d "$base" -S "$ver" --show-depends "$m" 2>/dev/null || log "warning: $ver has no module $m"
done >"$tmp/deps"
builtin=$(awk '$1 == "builtin" { print $2 }' "$tmp/deps" | sort -u | xargs)
[ -z "$builtin" ] || log "built into the kernel: $builtin"

# Copy each module once, first need first; busybox insmod wants them uncompressed.
awk '$1 == "insmod" && !seen[$2]++ { print $2 }' "$tmp/deps" | while read -r ko; do
	name=$(basename "$ko")
	case $name in
	*.ko.xz) name=${name%.xz} && xz -dc "$ko" >"$kdir/modules/$name" ;;
	*.ko.gz) name=${name%.gz} && gzip -dc "$ko" >"$kdir/modules/$name" ;;
	*.ko.zst) name=${name%.zst} && zstd -qdc "$ko" >"$kdir/modules/$name" ;;
	*) cp "$ko" "$kdir/modules/$name" ;;
	esac
	echo "$name" >>"$kdir/modules/load.list"
done
rm -rf "$tmp"

# Keep only this kernel: drop the packages and trees of older ones.
find "$cache" -maxdepth 1 \( -name 'linux-image-*.deb' ! -name "${pkg}_*" -o -name 'kernel-*' ! -name "kernel-$ver" \) \
	-exec rm -rf {} +
printf '%s' "$stamp" >"$kdir/.done"
log "kernel $ver: $(wc -l <"$kdir/modules/load.list") modules in $kdir"
echo "$kdir"
