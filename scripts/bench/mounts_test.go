// Package bench holds the test of scripts/bench/mounts.sh, the mount check
// of `make bench` (run.sh).
package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// checkScript runs in a mount namespace of its own, whose mounts are
// private copies of the host's: it unmounts tracefs there, as on a machine
// that never mounted it, without touching the host's. Then it does what
// run.sh does around perf's first use (the perf on PATH), and checks that
// perf's mount is not blamed, that a real leaked mount still is, and that
// the bench leaves tracefs unmounted again.
const checkScript = `
set -euo pipefail
source scripts/bench/mounts.sh
while tracefs_at "$tracefs_dir"; do umount "$tracefs_dir"; done

mounts_snapshot
data=$(mktemp)
perf record -q -o "$data" -e sched:sched_process_exec -- true >/dev/null 2>&1 || { rm -f "$data"; echo "perf record failed"; exit 1; }
rm -f "$data"
tracefs_at "$tracefs_dir" || { echo "perf ran without tracefs at $tracefs_dir"; exit 1; }
left=$(mounts_left)
[ -z "$left" ] || { echo "blamed on a container: $left"; exit 1; }

mkdir "$LEAK"
mount -t tmpfs leak "$LEAK"
left=$(mounts_left)
[ "$left" = "$LEAK" ] || { echo "the leaked mount $LEAK was not reported, but: $left"; exit 1; }
umount "$LEAK"

mounts_release
! tracefs_at "$tracefs_dir" || { echo "tracefs is still mounted at $tracefs_dir"; exit 1; }
echo ok
`

// fakePerf does what perf does about tracefs, for machines without perf.
const fakePerf = `#!/bin/sh
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing
`

func TestPerfsTracefsIsNotALeakButAContainersMountIs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (mounts); run as root, as make bench does")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("needs unshare(1), for a mount namespace of its own")
	}
	if _, err := os.Stat("/sys/kernel/tracing"); err != nil {
		t.Skip("this kernel has no /sys/kernel/tracing")
	}
	perfs := map[string]string{}
	fake := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(fake, "perf"), []byte(fakePerf), 0o755))
	perfs["a stand-in for perf"] = fake + string(os.PathListSeparator) + os.Getenv("PATH")
	if _, err := exec.LookPath("perf"); err == nil {
		perfs["perf"] = os.Getenv("PATH")
	}
	for name, path := range perfs {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command("unshare", "--mount", "--propagation", "private", "bash", "-c", checkScript)
			cmd.Dir = "../.." // the repository, as run.sh runs
			cmd.Env = append(os.Environ(), "PATH="+path, "LEAK="+filepath.Join(t.TempDir(), "leak"))
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", out)
			require.Equal(t, "ok", strings.TrimSpace(string(out)))
		})
	}
}
