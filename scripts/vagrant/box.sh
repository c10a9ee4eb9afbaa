#!/usr/bin/env bash
# box.sh OUT.box: a Debian 12 Vagrant box for the libvirt provider, made on
# this machine with debootstrap, for `make vagrant-test` (test.sh). Root only.
#
# What a box is: a tar of a disk image (box.img, qcow2), metadata.json (the
# provider and the format) and a Vagrantfile of the box's own, which Vagrant
# reads before the project's. Ours says `libvirt.driver = "qemu"`: where
# there is no KVM, libvirt must emulate the CPU, and the project's
# Vagrantfile stays exactly as readers use it.
#
# The disk: one ext4 partition, booted by extlinux from the MBR; Debian's
# kernel; systemd with networkd asking DHCP; openssh-server and sudo; the
# `vagrant` user with Vagrant's well-known insecure key, which Vagrant
# replaces with a key of its own at the first `vagrant up`. The packages of
# scripts/provision.sh are installed here, at native speed, so that the
# provisioning inside the emulated VM has little left to unpack.
#
# VAGRANT_TEST_CA_DIR=DIR copies DIR's *.crt into the box as trusted
# authorities: for a network whose HTTPS goes through a proxy with a CA of
# its own (a company's, say), which the VM would otherwise refuse.
set -euo pipefail

out=${1:?usage: box.sh OUT.box}
here=$(cd "$(dirname "$0")" && pwd)
provision=$here/../provision.sh
mirror=${VAGRANT_TEST_MIRROR:-http://deb.debian.org/debian}
disk_size=${VAGRANT_TEST_DISK_SIZE:-20G}
log() { printf '[box] %s\n' "$*"; }

work=$(mktemp -d "${TMPDIR:-/var/tmp}/mydocker-box.XXXXXX")
root=$work/root
loop=""
undo() {
	for m in dev/pts dev proc sys; do
		mountpoint -q "$root/$m" && umount "$root/$m"
	done
	mountpoint -q "$root" && umount "$root"
	[ -z "$loop" ] || losetup -d "$loop"
	rm -rf "$work"
}
trap undo EXIT
trap "exit 1" INT TERM

# provision.sh's package list: the words between "APT_PACKAGES=(" and ")",
# comments dropped.
provision_packages() {
	sed -n '/^APT_PACKAGES=(/,/^)/p' "$provision" | sed -e '1d;$d' -e 's/#.*//' | xargs
}

# A sparse raw disk with one bootable partition from 1 MiB to the end.
make_disk() {
	truncate -s "$disk_size" "$work/disk.raw"
	echo 'start=2048, type=83, bootable' | sfdisk -q "$work/disk.raw"
	local start=$((2048 * 512))
	loop=$(losetup --find --show --offset "$start" "$work/disk.raw")
	# extlinux reads ext4, but not with 64-bit block numbers.
	mkfs.ext4 -q -O ^64bit -L root "$loop"
	mkdir -p "$root"
	mount "$loop" "$root"
}

# debootstrap brings the base system; apt-get in the new root the rest, as it
# orders the configuration of many packages better than debootstrap does.
install_system() {
	local base=systemd,systemd-sysv,udev,dbus,openssh-server,sudo,rsync,ca-certificates
	log "debootstrap bookworm from $mirror (minbase, with $base)"
	debootstrap --variant=minbase --include="$base" bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
		{ tail -20 "$work/debootstrap.log" "$root/debootstrap/debootstrap.log"; exit 1; }
}

install_packages() {
	local packages
	packages="linux-image-amd64 systemd-resolved $(provision_packages)"
	log "apt-get install $packages"
	cp /etc/resolv.conf "$root/etc/resolv.conf"
	in_root apt-get update -q >"$work/apt.log" 2>&1 || { tail -20 "$work/apt.log"; exit 1; }
	# shellcheck disable=SC2086 # a list of words
	in_root apt-get install -y -q --no-install-recommends $packages >>"$work/apt.log" 2>&1 ||
		{ tail -20 "$work/apt.log"; exit 1; }
}

in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }

configure_system() {
	local uuid
	uuid=$(blkid -s UUID -o value "$loop")
	echo "UUID=$uuid / ext4 errors=remount-ro 0 1" >"$root/etc/fstab"
	echo vagrant-box >"$root/etc/hostname"
	printf '127.0.0.1 localhost\n127.0.1.1 vagrant-box\n' >"$root/etc/hosts"
	cat >"$root/etc/apt/sources.list" <<-EOF
		deb $mirror bookworm main
		deb $mirror bookworm-updates main
		deb http://deb.debian.org/debian-security bookworm-security main
	EOF
	# Any network card, with DHCP; names resolved by systemd-resolved.
	cat >"$root/etc/systemd/network/80-dhcp.network" <<-EOF
		[Match]
		Name=en* eth*

		[Network]
		DHCP=yes
	EOF
	in_root systemctl enable systemd-networkd systemd-resolved ssh >/dev/null 2>&1
	ln -sfn /run/systemd/resolve/stub-resolv.conf "$root/etc/resolv.conf"
	# The vagrant user, as every box has it: password "vagrant", sudo without
	# a password, and the insecure key that Vagrant swaps at the first boot.
	in_root useradd -m -s /bin/bash vagrant
	echo vagrant:vagrant | in_root chpasswd
	echo 'vagrant ALL=(ALL) NOPASSWD: ALL' >"$root/etc/sudoers.d/vagrant"
	chmod 0440 "$root/etc/sudoers.d/vagrant"
	install -d -m 0700 -o 1000 -g 1000 "$root/home/vagrant/.ssh"
	install -m 0600 -o 1000 -g 1000 "$(insecure_key)" "$root/home/vagrant/.ssh/authorized_keys"
	echo 'UseDNS no' >"$root/etc/ssh/sshd_config.d/vagrant.conf"
	if [ -n "${VAGRANT_TEST_CA_DIR:-}" ]; then
		log "trusting the certificates of $VAGRANT_TEST_CA_DIR"
		cp "$VAGRANT_TEST_CA_DIR"/*.crt "$root/usr/local/share/ca-certificates/"
		in_root update-ca-certificates >/dev/null
	fi
	in_root apt-get clean
}

# The public half of Vagrant's insecure key, from Vagrant itself.
insecure_key() {
	local key
	key=$(find /usr/share/rubygems-integration /usr/lib/ruby /opt/vagrant -path '*/keys/vagrant.pub' 2>/dev/null | head -n 1)
	[ -n "$key" ] || { echo "box.sh: Vagrant's keys/vagrant.pub not found: is vagrant installed?" >&2; exit 1; }
	echo "$key"
}

install_bootloader() {
	local kernel initrd uuid
	kernel=$(cd "$root/boot" && ls vmlinuz-* | sort -V | tail -n 1)
	initrd=initrd.img-${kernel#vmlinuz-}
	uuid=$(blkid -s UUID -o value "$loop")
	mkdir -p "$root/boot/extlinux"
	cat >"$root/boot/extlinux/extlinux.conf" <<-EOF
		DEFAULT debian
		TIMEOUT 1
		LABEL debian
		  LINUX /boot/$kernel
		  INITRD /boot/$initrd
		  APPEND root=UUID=$uuid ro net.ifnames=0 console=tty0 console=ttyS0
	EOF
	extlinux --install "$root/boot/extlinux" >/dev/null 2>&1
	dd if=/usr/lib/syslinux/mbr/mbr.bin of="$work/disk.raw" bs=440 count=1 conv=notrunc status=none
}

# The box: the disk as qcow2, with the blocks that hold nothing left out.
pack_box() {
	umount "$root"
	zerofree "$loop"
	losetup -d "$loop"
	loop=""
	qemu-img convert -O qcow2 "$work/disk.raw" "$work/box.img"
	local size=${disk_size%G}
	printf '{"provider": "libvirt", "format": "qcow2", "virtual_size": %s}\n' "$size" >"$work/metadata.json"
	cat >"$work/Vagrantfile" <<-'EOF'
		# The box's own Vagrantfile, read before the project's: libvirt's
		# "qemu" domain type emulates the CPU, for hosts without KVM.
		Vagrant.configure("2") do |config|
		  config.vm.provider :libvirt do |libvirt|
		    libvirt.driver = "qemu"
		  end
		end
	EOF
	tar -C "$work" -cf "$out" metadata.json Vagrantfile box.img
}

make_disk
install_system
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
mount -t proc proc "$root/proc"
mount -t sysfs sys "$root/sys"
install_packages
configure_system
install_bootloader
for m in dev/pts dev proc sys; do umount "$root/$m"; done
pack_box
log "wrote $out ($(du -h "$out" | cut -f1))"
