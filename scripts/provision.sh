#!/usr/bin/env bash
# provision.sh: prepare a fresh Debian 12 or Ubuntu 24.04 machine (or the
# Vagrant VM described by ../Vagrantfile) for building mydocker, running its
# demo and running its integration tests as root.
#
# Usage (as root, from anywhere):
#   sudo bash scripts/provision.sh [REPO_DIR]
#
# REPO_DIR defaults to the directory above this script; it may also be given
# as PROVISION_REPO_DIR. It must contain go.mod: the Go version we need is
# read from its `go` line every time, so bumping go.mod is all it takes.
#
# The script is idempotent: a second run installs nothing, skips
# `apt-get update`, and only prints the report at the end.
#
# Testing knob: PROVISION_FORCE_DISTRO_GO=1 ignores any Go already on PATH or
# in /usr/local/go and takes the distribution-package route regardless.

set -euo pipefail

# ---------------------------------------------------------------------------
# Packages installed with apt-get. Later chapters append to this list (one
# package per line, with a comment saying which chapter needs it).
# ---------------------------------------------------------------------------
APT_PACKAGES=(
	# building the code
	make            # the book's Makefile targets
	git             # cloning, and `go` reads VCS info when stamping binaries
	ca-certificates # HTTPS to the Go module proxy
	gcc             # cgo, and `go test -race`
	libc6-dev       # C headers/crt files that gcc and cgo need
	diffutils       # diff, used by tests that compare outputs
	# running containers
	util-linux     # unshare, nsenter, findmnt, mount
	procps         # ps, pgrep, sysctl
	iproute2       # ip: veth pairs, bridges, network namespaces
	iptables       # NAT for container networking
	psmisc         # pstree, fuser, killall
	busybox-static # a static busybox to populate tiny root filesystems
	kmod           # modprobe, to load overlay (and later other modules)
	strace         # the primer (chapter 0) watches system calls with it
	# make bench: the runtimes mydocker is timed against, and the timing
	runc       # the OCI reference runtime
	bubblewrap # bwrap, a minimal sandbox
	hyperfine  # runs the commands side by side, with statistics
	jq         # edits runc's config.json, reads hyperfine's results
	# chapter 11 (images): tools no one here wrote read and write the images
	skopeo # inspects and copies OCI archives and layouts
	umoci  # unpacks an OCI layout into a root filesystem
	# chapter 13 (bridge): fetching a published port from the host
	curl
)

log() { printf '[provision] %s\n' "$*"; }
die() {
	printf '[provision] ERROR: %s\n' "$*" >&2
	exit 1
}

if [[ ${EUID:-$(id -u)} -ne 0 ]]; then
	die "this script must run as root (try: sudo bash $0)"
fi

# When started with plain `sudo`, HOME may still be the calling user's home;
# the Go toolchain we download would then land, owned by root, in that user's
# module cache. Keep root's files in root's home.
HOME="$(getent passwd root | cut -d: -f6)"
export HOME

export DEBIAN_FRONTEND=noninteractive
# On first boot of a cloud image unattended-upgrades often holds the dpkg
# lock for a while; wait for it instead of failing.
APT_GET=(apt-get -y -q -o DPkg::Lock::Timeout=600)

# --- where is the repository, and which Go does it want? --------------------
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="${1:-${PROVISION_REPO_DIR:-$SCRIPT_DIR/..}}"
[[ -f "$REPO_DIR/go.mod" ]] || die "no go.mod in $REPO_DIR (pass the repository directory as the first argument)"
REPO_DIR="$(cd "$REPO_DIR" && pwd)"

GO_WANT="$(awk '$1 == "go" { print $2; exit }' "$REPO_DIR/go.mod")"
[[ -n "$GO_WANT" ]] || die "could not find a 'go' line in $REPO_DIR/go.mod"

# The first Go release that can fetch the toolchain named in go.mod by itself.
GO_AUTO_MIN=1.21

# --- which distribution? -------------------------------------------------------
# shellcheck disable=SC1091
. /etc/os-release
OS_ID="${ID:-unknown}"
OS_CODENAME="${VERSION_CODENAME:-}"
case "$OS_ID:${VERSION_ID:-}" in
debian:12 | ubuntu:24.04) ;;
debian:* | ubuntu:*) log "note: tested on Debian 12 and Ubuntu 24.04; trying $PRETTY_NAME anyway" ;;
*) die "unsupported system '$PRETTY_NAME': this script uses apt-get on Debian or Ubuntu" ;;
esac

# --- small helpers -------------------------------------------------------------

# normalise "go1.24.0", "1.24", "1.25rc1" to "1.24.0", "1.24.0", "1.25.0"
norm_version() {
	local v="${1#go}"
	v="$(printf '%s' "$v" | sed -E 's/^([0-9]+(\.[0-9]+)*).*/\1/')"
	[[ "$v" =~ ^[0-9]+\.[0-9]+$ ]] && v="$v.0"
	printf '%s' "$v"
}

# version_ge A B: true if A >= B
version_ge() {
	local a b
	a="$(norm_version "$1")"
	b="$(norm_version "$2")"
	[[ "$(printf '%s\n%s\n' "$a" "$b" | sort -V | head -n1)" == "$b" ]]
}

# The version of a go binary itself, without letting it switch to another
# toolchain (GOTOOLCHAIN=local) and outside any module (cd /).
go_native_version() {
	(cd / && GOTOOLCHAIN=local GOFLAGS='' "$1" version 2>/dev/null) | awk '{ print $3 }'
}

pkg_installed() {
	[[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]
}

APT_UPDATED=0
apt_update_once() {
	if [[ $APT_UPDATED -eq 0 ]]; then
		log "apt-get update"
		"${APT_GET[@]}" update
		APT_UPDATED=1
	fi
}

# --- 1. packages ---------------------------------------------------------------
missing=()
for p in "${APT_PACKAGES[@]}"; do
	pkg_installed "$p" || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
	apt_update_once
	log "installing: ${missing[*]}"
	"${APT_GET[@]}" install --no-install-recommends "${missing[@]}"
else
	log "all ${#APT_PACKAGES[@]} packages already installed"
fi

# --- 2. a Go toolchain -------------------------------------------------------
# GO_BIN ends up as the go binary everything below uses.
GO_BIN=""

# (a) A Go that is new enough by itself: on PATH or in /usr/local/go.
if [[ "${PROVISION_FORCE_DISTRO_GO:-0}" != 1 ]]; then
	for cand in "$(command -v go || true)" /usr/local/go/bin/go; do
		[[ -n "$cand" && -x "$cand" ]] || continue
		v="$(go_native_version "$cand")"
		if [[ -n "$v" ]] && version_ge "$v" "$GO_WANT"; then
			log "found $cand ($v) >= go $GO_WANT from go.mod: using it"
			GO_BIN="$cand"
			break
		fi
	done
else
	log "PROVISION_FORCE_DISTRO_GO=1: ignoring any Go on PATH or in /usr/local/go"
fi

# (b) A distribution Go that an earlier run of this script linked to
#     /usr/local/bin/go. It is older than go.mod, but fetches the right
#     toolchain by itself, so there is nothing to install.
if [[ -z "$GO_BIN" && -L /usr/local/bin/go ]]; then
	target="$(readlink -f /usr/local/bin/go)"
	if [[ "$target" == /usr/lib/go-1.*/bin/go && -x "$target" ]]; then
		v="$(go_native_version "$target")"
		if [[ -n "$v" ]] && version_ge "$v" "$GO_AUTO_MIN"; then
			log "found /usr/local/bin/go -> $target ($v), set up by an earlier run"
			GO_BIN=/usr/local/bin/go
		fi
	fi
fi

# (c) Install the newest golang-1.NN-go package the distribution offers.
if [[ -z "$GO_BIN" ]]; then
	log "no Go >= $GO_WANT found: installing one from $OS_ID packages"

	if [[ "$OS_ID" == debian ]]; then
		# Debian's own golang-go is far too old (1.19 in bookworm); backports
		# carries golang-1.21 .. golang-1.23 (when this was written). Enable it.
		bp="${OS_CODENAME}-backports"
		# any uncommented sources line naming the suite (one-line or deb822)
		bp_lines="$(grep -rhsE "(^|[[:space:]])${bp}([[:space:]]|$)" /etc/apt/sources.list /etc/apt/sources.list.d/ || true)"
		if [[ -z "$(grep -Ev '^[[:space:]]*(#|$)' <<<"$bp_lines" || true)" ]]; then
			log "enabling $bp in /etc/apt/sources.list.d/${bp}.sources"
			cat >"/etc/apt/sources.list.d/${bp}.sources" <<-EOF
				# Added by mydocker's scripts/provision.sh: newer Go packages.
				Types: deb
				URIs: http://deb.debian.org/debian
				Suites: ${bp}
				Components: main
				Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
			EOF
			APT_UPDATED=0 # the new suite needs a fresh index
		fi
	fi
	apt_update_once

	# Every golang-1.NN-go the archive can install, newest last.
	newest=""
	for p in $(apt-cache search --names-only '^golang-1\.[0-9]+-go$' | awk '{ print $1 }' | sort -V); do
		# (read the whole output: with pipefail, grep -q closing the pipe early
		# would make the pipeline fail)
		policy="$(apt-cache policy "$p")"
		if [[ "$policy" =~ Candidate:\ [0-9] ]]; then
			newest="$p"
		fi
	done
	[[ -n "$newest" ]] || die "no golang-1.NN-go package found (on Ubuntu, is the 'universe' component enabled?)"
	newest_v="${newest#golang-}"
	newest_v="${newest_v%-go}"
	version_ge "$newest_v" "$GO_AUTO_MIN" ||
		die "the newest Go package here is $newest; Go >= $GO_AUTO_MIN is needed to fetch go $GO_WANT automatically"

	if pkg_installed "$newest"; then
		log "$newest already installed"
	else
		log "installing $newest"
		"${APT_GET[@]}" install --no-install-recommends "$newest"
	fi
	distro_go="/usr/lib/go-${newest_v}/bin/go"
	[[ -x "$distro_go" ]] || die "$newest is installed but $distro_go is missing"

	if [[ -e /usr/local/bin/go && ! -L /usr/local/bin/go ]]; then
		die "/usr/local/bin/go exists and is not a symlink; move it away and run again"
	fi
	log "linking /usr/local/bin/go -> $distro_go"
	ln -sfn "$distro_go" /usr/local/bin/go
	# The Makefile calls the gofmt of the Go it found; a reader's editor
	# and shell want it on PATH too.
	[[ -e /usr/local/bin/gofmt && ! -L /usr/local/bin/gofmt ]] || ln -sfn "${distro_go%/go}/gofmt" /usr/local/bin/gofmt
	GO_BIN=/usr/local/bin/go
fi

# The distribution Go only reaches go.mod's version by switching toolchains,
# which needs GOTOOLCHAIN=auto (Go's default). Check what would turn it off.
native="$(go_native_version "$GO_BIN")"
if ! version_ge "$native" "$GO_WANT"; then
	goroot="$(cd / && GOTOOLCHAIN=local "$GO_BIN" env GOROOT)"
	user_env="$(cd / && GOTOOLCHAIN=local "$GO_BIN" env GOENV)"
	if [[ "${GOTOOLCHAIN:-}" == local* ]]; then
		# The caller's choice: respect it, but say what it costs.
		log "warning: your environment sets GOTOOLCHAIN=$GOTOOLCHAIN; $native can only build"
		log "         this module with it unset or set to auto. Using auto for this check."
		export GOTOOLCHAIN=auto
	elif grep -qs '^GOTOOLCHAIN=local' "$user_env"; then
		log "warning: $user_env sets GOTOOLCHAIN=local; $native can only build this module"
		log "         after 'go env -w GOTOOLCHAIN=auto'. Using auto for this check."
		export GOTOOLCHAIN=auto
	elif grep -qs '^GOTOOLCHAIN=local' "$goroot/go.env"; then
		# A distribution that ships local as the default: override it per user
		# (root, and the user who ran sudo), leaving the package's file alone.
		log "$goroot/go.env defaults to GOTOOLCHAIN=local: setting auto with 'go env -w'"
		"$GO_BIN" env -w GOTOOLCHAIN=auto
		if [[ -n "${SUDO_USER:-}" && "$SUDO_USER" != root ]]; then
			user_home="$(getent passwd "$SUDO_USER" | cut -d: -f6)"
			runuser -u "$SUDO_USER" -- env HOME="$user_home" "$GO_BIN" env -w GOTOOLCHAIN=auto ||
				log "warning: could not run 'go env -w GOTOOLCHAIN=auto' as $SUDO_USER"
		fi
	fi
fi

# If root builds in a checkout owned by someone else (the vagrant user, a
# student's clone used with sudo), git refuses to read it and `go build`
# fails to stamp VCS info. Mark this one checkout as safe.
if [[ -d "$REPO_DIR/.git" && "$(stat -c %u "$REPO_DIR")" != 0 ]]; then
	if ! git config --system --get-all safe.directory 2>/dev/null | grep -xF "$REPO_DIR" >/dev/null; then
		log "git: marking $REPO_DIR as a safe.directory for root"
		git config --system --add safe.directory "$REPO_DIR"
	fi
fi

# --- 3. verify and report -----------------------------------------------------
# Running `go version` inside the module makes a too-old go fetch the
# toolchain go.mod names (once; later runs use the cached copy).
log "checking Go in $REPO_DIR (may download the toolchain named in go.mod)"
go_out="$(cd "$REPO_DIR" && "$GO_BIN" version)" || die "'go version' failed in $REPO_DIR"
go_have="$(awk '{ print $3 }' <<<"$go_out")"
version_ge "$go_have" "$GO_WANT" || die "Go in $REPO_DIR is $go_have, but go.mod wants $GO_WANT"

on_path="$(command -v go || true)"

# cgroup layout
cg_fs="$(stat -f -c %T /sys/fs/cgroup 2>/dev/null || echo missing)"
if [[ "$cg_fs" == cgroup2fs ]]; then
	cgroup="v2 (unified)"
elif [[ "$cg_fs" == tmpfs && "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" == cgroup2fs ]]; then
	cgroup="hybrid (v1 controllers, v2 at /sys/fs/cgroup/unified)"
elif [[ "$cg_fs" == tmpfs ]]; then
	cgroup="v1 (legacy)"
else
	cgroup="unknown (/sys/fs/cgroup is '$cg_fs')"
fi

# overlay filesystem
if grep -qw overlay /proc/filesystems; then
	overlay="available"
elif modprobe overlay 2>/dev/null && grep -qw overlay /proc/filesystems; then
	overlay="available (loaded with modprobe)"
else
	overlay="NOT available (no overlay in /proc/filesystems, modprobe overlay failed)"
fi

echo
echo "== mydocker provisioning report =="
echo "system:   ${PRETTY_NAME:-$OS_ID} ($(uname -m))"
echo "kernel:   $(uname -r)"
echo "cgroups:  $cgroup"
echo "overlay:  $overlay"
echo "go.mod:   go $GO_WANT"
echo "go:       $GO_BIN ($native) -> in $REPO_DIR: $go_out"
if [[ -z "$on_path" ]]; then
	echo "note:     'go' is not on this shell's PATH; add $(dirname "$GO_BIN") to PATH"
elif [[ "$(readlink -f "$on_path")" != "$(readlink -f "$GO_BIN")" ]]; then
	echo "note:     'go' on PATH is $on_path, not $GO_BIN"
fi
