#!/usr/bin/env bash
# build-initramfs.sh: build the test VM's initramfs for one stage: a static
# busybox with its applets, the kernel modules, Debian's iptables (nf_tables
# back-end) with its libraries, scripts/vm/init as /init, and in /tests the
# stage's mydocker, probe and integration test binary (static, built on this
# host) with a copy of busybox, for MYDOCKER_TEST_BINARIES.
# When the stage's chapter (or its lab) has console blocks marked
# <!-- transcript: cgroup v2 -->, /tests/book holds those texts, the
# transcripts checker and its sandbox script, and /bin/bash a static bash
# (Debian's bash-static), for the VM to run them (docs/transcripts.md).
#
# Usage: scripts/vm/build-initramfs.sh KERNEL_DIR OUTPUT [SLUG]
#   KERNEL_DIR  what fetch-kernel.sh printed
#   OUTPUT      the gzip'd cpio archive to write
#   SLUG        the stage (default: the last tested chapter, whose status
#               is written or code); it is
#               generated into build/stages/SLUG, unless STAGE_DIR names a
#               source tree to build instead.
set -euo pipefail

kdir=$1 out=$2 slug=${3:-}
cd "$(dirname "$0")/../.."
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}

stage=${STAGE_DIR:-}
if [ -z "$stage" ]; then
	[ -n "$slug" ] || slug=$("$GO" run ./scripts/stagegen chapters --tested | tail -n 1)
	"$GO" run ./scripts/stagegen stage "$slug" >&2
	stage=build/stages/$slug
fi

busybox=$(command -v busybox) || { echo "no busybox: apt-get install busybox-static" >&2 && exit 1; }
if ldd "$busybox" >/dev/null 2>&1; then # ldd fails on static binaries
	echo "$busybox is dynamically linked: apt-get install busybox-static" >&2
	exit 1
fi

root=build/vm/initramfs
rm -rf "$root"
mkdir -p "$root"/{bin,dev,proc,sys,tmp,run,tests,lib/modules}
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
	[ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
cp "$kdir"/modules/* "$root/lib/modules/"
cp scripts/vm/init "$root/init"
chmod 0755 "$root/init"

# iptables, for the NAT and filter rules of mydocker's networks (through
# go-iptables), and iptables-save, for the tests' leak check: the host's
# Debian iptables-nft, which drives the nf_tables modules. It is dynamically
# linked, so its shared libraries and the dynamic loader go with it, at the
# paths ldd names (without an ld.so.cache the loader searches those
# directories anyway). Its extensions are dlopen'ed from XTABLES_LIBDIR,
# compiled in as below: only those of the matches and targets mydocker's
# rules use (comment, conntrack, addrtype, tcp, udp; MASQUERADE, DNAT; the
# standard one for ACCEPT, DROP, RETURN and jumps to chains), a tenth of
# the directory's size. Both names are links to the multi-call binary, in
# /bin since the VM's PATH is /bin.
xtables=/usr/sbin/xtables-nft-multi
xtlib=/usr/lib/x86_64-linux-gnu/xtables
[ -x "$xtables" ] || { echo "no $xtables: apt-get install iptables" >&2 && exit 1; }
cp "$xtables" "$root/bin/xtables-nft-multi"
ln -s xtables-nft-multi "$root/bin/iptables"
ln -s xtables-nft-multi "$root/bin/iptables-save"
mkdir -p "$root$xtlib"
exts=()
for ext in standard comment conntrack addrtype tcp udp MASQUERADE DNAT; do
	so=$xtlib/libxt_$ext.so
	[ -e "$so" ] || { echo "no $so: apt-get install iptables" >&2 && exit 1; }
	# MASQUERADE and DNAT are links to libxt_NAT.so: one copy, two links.
	real=$(readlink -f "$so")
	[ -e "$root$real" ] || cp "$real" "$root$real"
	[ "$real" = "$so" ] || ln -s "$(basename "$real")" "$root$so"
	exts+=("$real")
done
# ldd prints "NAME => PATH (ADDRESS)" for a library, "PATH (ADDRESS)" for the loader.
for lib in $(ldd "$xtables" "${exts[@]}" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// && $2 ~ /^\(0x/ { print $1 }' | sort -u); do
	install -D -m 0755 "$lib" "$root$lib" # the file itself, not the link to it
done

# Static binaries, stripped: smaller to pack and to unpack under emulation.
tests=$(pwd)/$root/tests
(
	cd "$stage"
	export CGO_ENABLED=0
	"$GO" build -trimpath -ldflags='-s -w' -o "$tests/mydocker" ./mydocker
	# The same with fault injection, for the tests of every error path.
	# (-tags replaces GOFLAGS' tags: keep the Makefile's urfave_cli_no_docs.)
	"$GO" build -trimpath -ldflags='-s -w' -tags=urfave_cli_no_docs,faults -o "$tests/mydocker-faults" ./mydocker
	"$GO" build -trimpath -ldflags='-s -w' -o "$tests/probe" ./mydocker/probe
	"$GO" test -c -trimpath -ldflags='-s -w' -o "$tests/integration.test" ./mydocker/integration
)
cp "$busybox" "$tests/busybox"

# The stage's texts with blocks that need cgroup v2, and what runs them.
[ -n "$slug" ] || slug=$(basename "$stage")
texts=()
for text in chapters/[0-9]*-"$slug"/README.md labs/[0-9]*-"$slug"/README.md; do
	[ -f "$text" ] && grep -q '^<!-- transcript: cgroup v2 -->$' "$text" && texts+=("$text")
done
if ((${#texts[@]})); then
	bash=$(command -v bash-static) || { echo "no bash-static: apt-get install bash-static" >&2 && exit 1; }
	cp "$bash" "$root/bin/bash"
	for text in "${texts[@]}"; do
		install -D -m 0644 "$text" "$tests/book/$text"
	done
	install -D -m 0755 scripts/transcripts/sandbox.sh "$tests/book/scripts/transcripts/sandbox.sh"
	CGO_ENABLED=0 "$GO" build -trimpath -ldflags='-s -w' -o "$tests/transcripts" ./scripts/transcripts
fi
# The busybox image the tests' containers run, from the rootfs chapter on
# (scripts/image/busybox.sh; make test-vm passes it as IMAGE).
if [ -n "${IMAGE:-}" ]; then
	cp "$IMAGE" "$tests/busybox.tar"
fi
chmod -R go+rX "$root"

# newc is the cpio format the kernel reads; every file owned by root.
(cd "$root" && find . | LC_ALL=C sort | "$busybox" cpio -o -H newc -R 0:0 2>/dev/null) | gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
echo "initramfs for $stage: $out ($(du -h "$out" | cut -f1))" >&2
