//book:file namespaces

package report

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseMountinfoLine(t *testing.T) {
	m, err := parseMountinfoLine(`36 35 98:0 /mnt1 /mnt\040two rw,noatime master:1 shared:2 - ext3 /dev/root rw,errors=continue`)
	require.NoError(t, err)
	assert.Equal(t, Mount{Target: "/mnt two", FSType: "ext3", Source: "/dev/root", Options: "rw,noatime", Propagation: "master:1 shared:2"}, m)

	m, err = parseMountinfoLine(`21 26 0:20 / /proc rw,relatime - proc proc rw`)
	require.NoError(t, err)
	assert.Equal(t, "private", m.Propagation, "no optional fields means a private mount")

	_, err = parseMountinfoLine("garbage")
	assert.Error(t, err)
}

func TestCollectSeesThisProcess(t *testing.T) {
	r := Collect()
	assert.Empty(t, r.Errors)
	assert.Contains(t, r.Namespaces, "pid")
	var pids []int
	for _, p := range r.Processes {
		pids = append(pids, p.PID)
	}
	assert.Contains(t, pids, r.PID)
}
