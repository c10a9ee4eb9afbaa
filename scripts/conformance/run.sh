#!/usr/bin/env bash
# run.sh: run the probe in a Docker container and in a mydocker container,
# from the same image with the same flags, and compare the two reports
# field by field (scripts/conformance/compare). Every difference must be
# listed, with its reason, in scripts/conformance/differences.txt.
#
# Usage (as root, from the repository): sudo make conformance [CH=<slug>]
#   CH       the stage whose mydocker and probe to build (default: the last
#            tested chapter: written or code)
#   DOCKER   the docker client (default: Debian's /usr/bin/docker, from the
#            same docker.io package as the daemon)
#
# It installs nothing: it needs Debian's docker.io (dockerd, containerd,
# runc), which CI installs (.ci/run). It starts a dockerd of its own, cut
# off from the host's network setup (no bridge, no iptables rules, no IP
# forwarding) and with every directory of its own under build/conformance,
# and stops it by its PID at the end. It fails when anything it made is
# still there: a network device, an iptables rule, a mount, a process, a
# cgroup or a file outside build/. The reports and the comparison stay in
# build/conformance (CI keeps them).
set -euo pipefail

cd "$(dirname "$0")/../.."
repo=$PWD
GO=${GO:-go}
DOCKER=${DOCKER:-/usr/bin/docker}
out=$repo/build/conformance
work=$out/work                           # dockerd's and mydocker's state: removed at the end
parent=mydocker-conformance              # mydocker's cgroup parent
docker_parent=mydocker-conformance-docker # dockerd's (it would use "docker")
image="busybox-probe"                    # the test image, in both runtimes
# The same flags on both sides: a hostname and the limits to compare.
flags=(-h conformance -m 64m --pids-limit 100)

die() {
	echo "conformance: $*" >&2
	exit 1
}

# --- preconditions ------------------------------------------------------------
[ "$(id -u)" = 0 ] || die "containers and dockerd need root: sudo make conformance"
command -v dockerd >/dev/null || die "no dockerd: apt-get install docker.io (CI does; readers do not need it)"
[ -x "$DOCKER" ] || DOCKER=$(command -v docker) || die "no docker client"
for tool in "$GO" tar ip iptables-save; do
	command -v "$tool" >/dev/null || die "$tool is missing"
done
# dockerd uses a running system containerd instead of starting its own,
# and that one keeps its state outside build/.
[ ! -S /run/containerd/containerd.sock ] ||
	die "a system containerd is running (/run/containerd/containerd.sock): dockerd would use it; stop it first"
# The socket paths below $work must fit in a sockaddr_un (108 bytes).
[ ${#work} -le 60 ] || die "the repository's path is too long for dockerd's sockets under $work"

# --- what the machine looks like before ---------------------------------------
# Network devices by name, iptables rules without their counters, mounts by
# target and type, and the files dockerd writes outside its own directories.
links() { ip -o link show | awk -F': ' '{ print $2 }' | sort; }
rules() {
	local save
	for save in iptables-save ip6tables-save; do
		command -v "$save" >/dev/null && "$save" 2>/dev/null | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//'
	done
	true
}
mounts() { awk '{ for (i = 7; $i != "-"; i++); print $5, $(i + 1) }' /proc/self/mountinfo | sort; }
# Mounts under $work, deepest first: the data-root dockerd binds over itself,
# the network namespace files of its exec-root.
our_mounts() { awk -v w="$work" 'index($5, w "/") == 1 || $5 == w { print $5 }' /proc/self/mountinfo | sort -r; }
# Processes started from $work: dockerd, its containerd, the shims, mydocker.
# (The pattern does not match grep's own command line.)
work_re=$(printf '%s' "$work" | sed 's/[][\\.*^$+?(){}|]/\\&/g')
our_processes() { grep -lsE "$work_re/(data|exec|mydocker|probe)" /proc/[0-9]*/cmdline | cut -d/ -f3 || true; }
# dockerd and containerd also write these, whatever their roots; the ones
# that were not there before are removed at the end (dockerd's trust key is
# moved into $work by its configuration file, below).
host_paths=(/run/docker/plugins /run/docker /run/containerd/s /run/containerd)
remove_cgroups() {
	local d
	for d in /sys/fs/cgroup/"$parent" /sys/fs/cgroup/*/"$parent" /sys/fs/cgroup/"$docker_parent" /sys/fs/cgroup/*/"$docker_parent"; do
		[ ! -d "$d" ] || find "$d" -depth -type d -exec rmdir {} \; || true
	done
	true
}

stop_dockerd() {
	local pid=$1
	kill "$pid" 2>/dev/null || return 0
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.2
	done
	echo "conformance: dockerd ($pid) did not stop in 20 s: killing it" >&2
	kill -KILL "$pid" 2>/dev/null || true
}

# Whatever a killed earlier run left: its dockerd, its mounts, its cgroups.
clean_work() {
	local pid target
	for pid in $(our_processes); do
		case $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) in
		dockerd*) stop_dockerd "$pid" ;;
		esac
	done
	for pid in $(our_processes); do
		kill -KILL "$pid" 2>/dev/null || true
	done
	for target in $(our_mounts); do
		umount "$target" || umount -l "$target"
	done
	rm -rf "$work"
	remove_cgroups
}
clean_work
# Empty, they are what a killed run's dockerd left (with no system
# containerd running, checked above, no other dockerd uses them).
for path in "${host_paths[@]}"; do
	[ ! -d "$path" ] || rmdir "$path" 2>/dev/null || true
done
created=()
for path in "${host_paths[@]}"; do
	[ -e "$path" ] || created+=("$path")
done
before_links=$(links) before_rules=$(rules) before_mounts=$(mounts)

cleanup() {
	local status=$? left path
	[ -n "${dockerd_pid:-}" ] && stop_dockerd "$dockerd_pid"
	clean_work
	for path in "${created[@]}"; do
		# Directories only when empty: anything in them is someone else's.
		[ -e "$path" ] && { rmdir "$path" 2>/dev/null || echo "conformance: $path is not empty: left as it is" >&2; }
	done
	left=""
	[ "$(links)" = "$before_links" ] || left+=$'\nnetwork devices:\n'$(diff <(echo "$before_links") <(links) || true)
	[ "$(rules)" = "$before_rules" ] || left+=$'\niptables rules:\n'$(diff <(echo "$before_rules") <(rules) || true)
	[ "$(mounts)" = "$before_mounts" ] || left+=$'\nmounts:\n'$(diff <(echo "$before_mounts") <(mounts) || true)
	[ -z "$(our_processes)" ] || left+=$'\nprocesses:\n'$(our_processes | xargs -r ps -o pid,cmd -p)
	for path in "${created[@]}"; do
		[ ! -e "$path" ] || left+=$'\n'"file: $path"
	done
	if ls -d /sys/fs/cgroup/"$parent" /sys/fs/cgroup/*/"$parent" /sys/fs/cgroup/"$docker_parent" /sys/fs/cgroup/*/"$docker_parent" >/dev/null 2>&1; then
		left+=$'\ncgroups named '"$parent or $docker_parent"
	fi
	if [ -n "$left" ]; then
		echo "conformance: left behind on the machine:$left" >&2
		status=1
	else
		echo "[conformance] the machine is as it was: no new network device, iptables rule, mount, process, cgroup or file outside build/"
	fi
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$work"
rm -f "$out"/*.json "$out"/comparison.txt "$out"/dockerd.log

# --- 1. mydocker and the probe, from the stage; the test image ----------------
ch=${CH:-$($GO run ./scripts/stagegen chapters --tested | tail -n 1)}
echo "[conformance] stage $ch"
$GO run ./scripts/stagegen stage "$ch" >/dev/null
(cd "build/stages/$ch" && CGO_ENABLED=0 $GO build -o "$work/mydocker" ./mydocker &&
	CGO_ENABLED=0 $GO build -o "$work/probe" ./mydocker/probe)
$GO build -o "$work/compare" ./scripts/conformance/compare

# The image the integration tests run: busybox (make image) with the probe
# at /usr/local/bin/probe.
busybox=build/images/busybox.tar
[ -f "$busybox" ] || scripts/image/busybox.sh "$busybox"
mkdir -p "$work/layer/usr/local/bin" "$work/root/images"
cp "$work/probe" "$work/layer/usr/local/bin/probe"
cp "$busybox" "$work/image.tar"
tar --append --file="$work/image.tar" --no-recursion --numeric-owner --owner=0 --group=0 \
	--directory="$work/layer" ./usr/local ./usr/local/bin ./usr/local/bin/probe
cp "$work/image.tar" "$work/root/images/$image.tar"

# --- 2. a dockerd of its own ----------------------------------------------------
# vfs: the image's layer and each container's root are plain directories
# under the data-root, so no overlay mount ever lands on the host (an
# interrupted run leaves nothing to unmount but what clean_work finds);
# the image is 5 MB, so copying it per container costs nothing.
# The configuration file keeps dockerd from reading the host's
# /etc/docker/daemon.json and puts its trust key (dockerd 20.10 writes one)
# in $work instead of /etc/docker.
printf '{ "deprecated-key-path": "%s" }\n' "$work/key.json" >"$work/daemon.json"
dockerd --config-file "$work/daemon.json" \
	--bridge=none --iptables=false --ip-forward=false --ip6tables=false \
	--storage-driver=vfs --cgroup-parent "/$docker_parent" \
	--data-root "$work/data" --exec-root "$work/exec" --pidfile "$work/dockerd.pid" \
	-H "unix://$work/docker.sock" >"$out/dockerd.log" 2>&1 &
dockerd_pid=$!
docker() { "$DOCKER" -H "unix://$work/docker.sock" "$@"; }
for _ in $(seq 150); do
	kill -0 "$dockerd_pid" 2>/dev/null || die "dockerd stopped; its log: $out/dockerd.log"
	[ -S "$work/docker.sock" ] && docker version >/dev/null 2>&1 && break
	sleep 0.2
done
docker version >/dev/null 2>&1 || die "dockerd did not answer in 30 s; its log: $out/dockerd.log"

# --- 3. the same container, three times ------------------------------------------
# --network host: mydocker has no network namespace before the chapter
# netns, so the container shares the host's; Docker's host mode is the same
# setup, and makes no namespace file to unmount. From netns on, mydocker
# is run with --network host too. Standard input is /dev/null
# and standard output and error are pipes on both sides, as a container of
# Docker's has them without -i or -t (mydocker passes its own on).
docker import "$work/image.tar" "$image:conformance" >/dev/null
docker run --rm --network host "${flags[@]}" "$image:conformance" /usr/local/bin/probe </dev/null | cat >"$out/docker.json"
run_flags=() # from the detach chapter on, as Docker's --rm above
case $("$work/mydocker" run --help) in *--rm*) run_flags=(--rm) ;; esac
# From the netns chapter on, the host's network as Docker's above.
case $("$work/mydocker" run --help) in *--network*) run_flags+=(--network host) ;; esac
"$work/mydocker" --root "$work/root" run "${run_flags[@]}" --cgroup-parent "$parent" "${flags[@]}" "$image" /usr/local/bin/probe \
	</dev/null 2> >(cat >&2) | cat >"$out/mydocker.json"
# The host's own view, to tell shared namespaces and cgroups from new ones.
"$work/probe" </dev/null >"$out/host.json"
{
	echo "docker client: $DOCKER, $(docker version --format '{{.Client.Version}} (API {{.Client.APIVersion}})')"
	echo "dockerd: $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})'), storage driver vfs"
	echo "mydocker: $("$work/mydocker" --version)"
	echo "flags: --network host ${flags[*]} (docker); ${run_flags[*]} --cgroup-parent $parent ${flags[*]} (mydocker)"
} >"$out/versions.txt"
cat "$out/versions.txt"

# --- 4. compare -----------------------------------------------------------------
set +e
"$work/compare" -host "$out/host.json" -differences scripts/conformance/differences.txt \
	"$out/docker.json" "$out/mydocker.json" >"$out/comparison.txt"
result=$?
set -e
cat "$out/comparison.txt"
[ "$result" = 0 ] || die "the containers differ beyond scripts/conformance/differences.txt (reports in $out)"
echo "[conformance] every difference is listed in scripts/conformance/differences.txt"
