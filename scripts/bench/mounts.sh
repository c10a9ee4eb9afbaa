# mounts.sh: the bench's check that no mount is left behind, sourced by
# run.sh (and by its test, mounts_test.go). Needs root, like the bench.
#
#   mounts_snapshot   get the machine ready, then record its mount points
#   mounts_left       print each mount point that was not there at the snapshot
#   mounts_release    undo what mounts_snapshot mounted
#
# WHY tracefs: perf record (profile.sh) reads the kernel's tracepoints through
# the tracing filesystem, and when none is mounted it mounts one at
# /sys/kernel/tracing and leaves it there. A snapshot taken before perf's
# first use would blame that mount on a container, and fail the first
# `make bench` on such a machine. So, when perf is there to run, the
# snapshot mounts tracefs first, where perf looks first, and the bench
# unmounts it at the end: perf finds it and mounts nothing, and the machine
# is left as it was found. A container's leaked mount is still caught.

tracefs_dir=/sys/kernel/tracing
tracefs_ours=0

# mounts: every mount point, sorted (a point mounted twice is listed twice)
mounts() { awk '{ print $5 }' /proc/self/mountinfo | sort; }

# tracefs_at DIR: is a tracefs mounted at DIR? (The filesystem type is the
# field after the " - " separator of mountinfo.)
tracefs_at() {
	awk -v dir="$1" '$5 == dir { for (i = 7; i < NF; i++) if ($i == "-") { if ($(i + 1) == "tracefs") found = 1; break } }
		END { exit !found }' /proc/self/mountinfo
}

mounts_snapshot() {
	if command -v perf >/dev/null && ! tracefs_at "$tracefs_dir"; then
		if mount -t tracefs nodev "$tracefs_dir"; then
			tracefs_ours=1
		else
			echo "bench: could not mount tracefs at $tracefs_dir: perf may mount it itself, and the mount check blame it" >&2
		fi
	fi
	mounts_before=$(mounts)
}

mounts_left() { comm -13 <(echo "$mounts_before") <(mounts); }

mounts_release() {
	if [ "$tracefs_ours" = 1 ]; then
		umount "$tracefs_dir" || echo "bench: could not unmount $tracefs_dir, which the bench mounted for perf" >&2
		tracefs_ours=0
	fi
}
