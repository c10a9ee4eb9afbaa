//book:file security

package seccomp

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// entries are the names in the cache's directory.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	list, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range list {
		names = append(names, e.Name())
	}
	return names
}

func TestCacheCompilesOnceAndReusesTheEntry(t *testing.T) {
	c := Cache{Dir: filepath.Join(t.TempDir(), "seccomp")}
	first, err := c.Filter("", dockersCapabilities)
	require.NoError(t, err)
	require.NotEmpty(t, first)
	names := entries(t, c.Dir)
	require.Len(t, names, 1)
	entry := filepath.Join(c.Dir, names[0])
	st, err := os.Stat(entry)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "the state root's files are root's alone")
	dir, err := os.Stat(c.Dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), dir.Mode().Perm())

	// The second container reads the entry: seen by changing it.
	require.NoError(t, os.WriteFile(entry, []byte("12345678"), 0o600))
	again, err := c.Filter("", dockersCapabilities)
	require.NoError(t, err)
	assert.Equal(t, "12345678", again)

	// Other capabilities are another filter, in another entry.
	other, err := c.Filter("", append([]string{"CAP_SYS_ADMIN"}, dockersCapabilities...))
	require.NoError(t, err)
	assert.NotEqual(t, first, other)
	assert.Len(t, entries(t, c.Dir), 2)
}

func TestCacheRecompilesADamagedEntry(t *testing.T) {
	c := Cache{Dir: t.TempDir()}
	first, err := c.Filter("", dockersCapabilities)
	require.NoError(t, err)
	entry := filepath.Join(c.Dir, entries(t, c.Dir)[0])
	require.NoError(t, os.WriteFile(entry, []byte("12345"), 0o600)) // not whole instructions
	again, err := c.Filter("", dockersCapabilities)
	require.NoError(t, err)
	assert.Equal(t, first, again)
	data, err := os.ReadFile(entry)
	require.NoError(t, err)
	assert.Equal(t, first, string(data), "the entry is written again")
}

func TestCacheKeysAProfileFileByItsContent(t *testing.T) {
	c := Cache{Dir: t.TempDir()}
	path := filepath.Join(t.TempDir(), "profile.json")
	require.NoError(t, writeFile(path, `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
		{"names": ["getpid"], "action": "SCMP_ACT_ERRNO"}]}`))
	a, err := c.Filter(path, nil)
	require.NoError(t, err)
	require.NoError(t, writeFile(path, `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
		{"names": ["getppid"], "action": "SCMP_ACT_ERRNO"}]}`))
	b, err := c.Filter(path, nil)
	require.NoError(t, err)
	assert.NotEqual(t, a, b, "an edited profile is compiled again")

	require.NoError(t, writeFile(path, `{}`))
	none, err := c.Filter(path, nil)
	require.NoError(t, err)
	assert.Empty(t, none, "no default action and no rules: no filter, as in Docker")

	_, err = c.Filter(filepath.Join(t.TempDir(), "none.json"), nil)
	assert.ErrorContains(t, err, "reading the seccomp profile")
}

// A new mydocker binary never asks for the old one's entries: they go
// when it writes its own.
func TestCacheRemovesOtherBinariesEntries(t *testing.T) {
	c := Cache{Dir: t.TempDir()}
	stale := filepath.Join(c.Dir, "0000000000000000-0123")
	require.NoError(t, os.WriteFile(stale, []byte("12345678"), 0o600))
	killed := filepath.Join(c.Dir, ".0000000000000000-0123-123") // a mydocker killed while writing
	require.NoError(t, os.WriteFile(killed, nil, 0o600))
	old := time.Now().Add(-time.Hour)
	require.NoError(t, os.Chtimes(killed, old, old))
	writing := filepath.Join(c.Dir, ".0000000000000000-0123-456") // another mydocker, writing now
	require.NoError(t, os.WriteFile(writing, nil, 0o600))

	_, err := c.Filter("", dockersCapabilities)
	require.NoError(t, err)
	assert.NoFileExists(t, stale)
	assert.NoFileExists(t, killed)
	assert.FileExists(t, writing)
	assert.Len(t, entries(t, c.Dir), 2)
}

// A cache that cannot be written only costs a compilation.
func TestCacheThatCannotBeWrittenStillGivesTheFilter(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-directory")
	require.NoError(t, writeFile(file, ""))
	f, err := Cache{Dir: file}.Filter("", dockersCapabilities)
	require.NoError(t, err)
	assert.NotEmpty(t, f)
}
