//book:file security

package container

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCapabilitiesFollowDocker(t *testing.T) {
	caps, err := Capabilities(nil, nil, false)
	require.NoError(t, err)
	assert.Equal(t, DefaultCapabilities, caps)
	assert.Len(t, caps, 14)

	caps, err = Capabilities([]string{"net_admin"}, []string{"ALL"}, false)
	require.NoError(t, err)
	assert.Equal(t, []string{"CAP_NET_ADMIN"}, caps, "dropping ALL comes before the additions")

	caps, err = Capabilities([]string{"ALL"}, []string{"cap_sys_admin"}, false)
	require.NoError(t, err)
	assert.Len(t, caps, len(capabilityNames)-1)
	assert.NotContains(t, caps, "CAP_SYS_ADMIN", "adding ALL comes before the drops")

	caps, err = Capabilities(nil, []string{"CHOWN", "KILL"}, false)
	require.NoError(t, err)
	assert.Len(t, caps, 12)
	assert.NotContains(t, caps, "CAP_CHOWN")

	caps, err = Capabilities(nil, nil, true)
	require.NoError(t, err)
	assert.Equal(t, capabilityNames, caps)

	_, err = Capabilities([]string{"FLY"}, nil, false)
	assert.ErrorContains(t, err, `unknown capability "FLY"`)
}

func TestCapabilityNamesAreTheKernelsNumbers(t *testing.T) {
	assert.Equal(t, "CAP_SYS_ADMIN", capabilityNames[21])
	assert.Equal(t, "CAP_MKNOD", capabilityNames[27])
	assert.Equal(t, "CAP_CHECKPOINT_RESTORE", capabilityNames[40])
}
