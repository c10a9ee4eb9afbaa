//book:file security

package container

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestParseTmpfsFollowsDocker(t *testing.T) {
	tm, err := ParseTmpfs("/run")
	require.NoError(t, err)
	assert.Equal(t, Tmpfs{Destination: "/run", Flags: unix.MS_NOEXEC | unix.MS_NOSUID | unix.MS_NODEV}, tm)

	tm, err = ParseTmpfs("/cache/:exec,ro,size=64m,mode=1777")
	require.NoError(t, err)
	assert.Equal(t, Tmpfs{Destination: "/cache", Flags: unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV, Data: "size=64m,mode=1777"}, tm)

	for _, bad := range []string{"run", "/", "/proc/sys", ":size=1m"} {
		_, err := ParseTmpfs(bad)
		assert.Error(t, err, bad)
	}
}
