//book:file overlay

package image

//book:replace overlay images
// func TestArchiveDigestIsRememberedUntilTheArchiveChanges(t *testing.T) {
//	dir := t.TempDir()
//	archive, cache := filepath.Join(dir, "img.tar"), filepath.Join(dir, "cache", "img.tar")
//	require.NoError(t, os.WriteFile(archive, []byte("one"), 0o644))
//
//	first, err := archiveDigest(archive, cache)
//	require.NoError(t, err)
//	assert.Equal(t, "7692c3ad3540bb803c020b3aee66cd8887123234ea0c6e7143c0add73ff431ed", first, "sha256 of \"one\"")
//
//	// The cache is what is read while the archive is unchanged.
//	data, err := os.ReadFile(cache)
//	require.NoError(t, err)
//	require.NoError(t, os.WriteFile(cache, []byte(string(data[:len(data)-65])+"remembered\n"), 0o600))
//	again, err := archiveDigest(archive, cache)
//	require.NoError(t, err)
//	assert.Equal(t, "remembered", again)
//
//	// Rewritten in place, with the same size and its old modification time.
//	before, err := os.Stat(archive)
//	require.NoError(t, err)
//	time.Sleep(10 * time.Millisecond) // for the change time to move
//	require.NoError(t, os.WriteFile(archive, []byte("two"), 0o644))
//	require.NoError(t, os.Chtimes(archive, before.ModTime(), before.ModTime()))
//	changed, err := archiveDigest(archive, cache)
//	require.NoError(t, err)
//	assert.Equal(t, "3fc4ccfe745870e2c0d99f71f30ff0656c8dedd41cc1d7d3d376b0dbe685e2f3", changed, "sha256 of \"two\"")
// }
//book:end
