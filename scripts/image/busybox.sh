#!/usr/bin/env bash
# busybox.sh: build the busybox image the book's containers run, from
# Debian's busybox-static package, without Docker and without a registry.
#
# Usage: scripts/image/busybox.sh OUT.tar
#
# The image is a plain tar of a root filesystem, as `docker export` writes
# one: the static busybox binary, a hard link to it for each of its applets
# (as in the official busybox image), the directories a container expects,
# and /etc/passwd and /etc/group. Every entry is owned by root and carries
# the package's timestamp, so the same package always gives the same tar.
set -euo pipefail

out=${1:?usage: $0 OUT.tar}
busybox=/bin/busybox

if ! dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed'; then
	echo "busybox.sh: the image is built from Debian's busybox-static package: apt-get install busybox-static (scripts/provision.sh does)" >&2
	exit 1
fi
version=$(dpkg-query -W -f='${Version}' busybox-static)

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
chmod 0755 "$root"

# The directories of a small Linux system; /proc, /sys and /dev are mount
# points that the runtime fills.
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,dev,proc,sys,run,home,var/log}
install -d -m 0700 "$root/root"
install -d -m 1777 "$root/tmp" "$root/var/tmp"

install -m 0755 "$busybox" "$root/bin/busybox"
# --list-full prints each applet with the directory it belongs in, such as
# bin/sh or usr/bin/awk.
"$busybox" --list-full | while read -r applet; do
	[ "$applet" = bin/busybox ] || ln "$root/bin/busybox" "$root/$applet"
done

cat >"$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat >"$root/etc/group" <<'GROUP'
root:x:0:
daemon:x:1:
tty:x:5:
nogroup:x:65534:
GROUP
printf 'NAME="mydocker busybox"\nVERSION="%s"\n' "$version" >"$root/etc/os-release"

mtime=$(stat -c %Y "$busybox")
mkdir -p "$(dirname "$out")"
tar --create --file="$out.tmp" --directory="$root" --sort=name --numeric-owner \
	--owner=0 --group=0 --mtime="@$mtime" .
mv "$out.tmp" "$out"
echo "busybox image (busybox-static $version, $("$busybox" --list-full | wc -l) applets): $out ($(du -h "$out" | cut -f1))" >&2
