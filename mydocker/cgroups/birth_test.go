//book:file exec

package cgroups

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestOwnPathFindsTheHierarchyOfAController(t *testing.T) {
	self := "12:pids:/user.slice/u.scope\n5:cpu,cpuacct:/user.slice\n1:name=systemd:/init.scope\n0::/user.slice/u.scope\n"
	assert.Equal(t, "/user.slice", ownPath(self, "cpu"), "one of a hierarchy's controllers")
	assert.Equal(t, "/user.slice", ownPath(self, "cpuacct"))
	assert.Equal(t, "/user.slice/u.scope", ownPath(self, "pids"))
	assert.Equal(t, "", ownPath(self, "memory"), "a hierarchy that is not mounted")
	assert.Equal(t, "", ownPath(self, "systemd"), "name=systemd is a name, not a controller")
	assert.Equal(t, "", ownPath(self, ""), "the v2 line has no controllers")
}
