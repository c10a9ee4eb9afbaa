//book:file images

package image

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestParseReference(t *testing.T) {
	for in, want := range map[string]string{
		"busybox": "busybox:latest", "busybox:1.36": "busybox:1.36", "library/busybox:v1.0_rc-2": "library/busybox:v1.0_rc-2",
		"my-app.web:Latest": "my-app.web:Latest",
	} {
		got, err := ParseReference(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "BusyBox", "busybox:", ":tag", "a//b", "busy box", "-x", "x:-tag", "../x"} {
		_, err := ParseReference(bad)
		assert.Error(t, err, bad)
	}
}

// The OCI image spec's own definition, checked by hand.
func TestChainIDs(t *testing.T) {
	a, b := digest.FromString("a"), digest.FromString("b")
	chain := ChainIDs([]digest.Digest{a, b})
	assert.Equal(t, a, chain[0])
	assert.Equal(t, digest.FromString(a.String()+" "+b.String()), chain[1])
}

// OCI whiteouts become overlay's: a 0:0 character device and the opaque
// xattr, and nothing outside the layer.
func TestUnpackConvertsWhiteouts(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mknod and trusted.* xattrs need root")
	}
	layer, outside := sandbox(t)
	require.NoError(t, Unpack(archive(t,
		dirEntry("etc/", 0o755), fileEntry("etc/.wh.passwd", 0o644, ""),
		dirEntry("opt/", 0o755), fileEntry("opt/.wh..wh..opq", 0o644, ""),
		fileEntry(".wh.top", 0o644, ""), fileEntry("var/.wh..wh.plnk", 0o644, ""),
	), layer))
	err := Unpack(archive(t, symlinkEntry("out", "../outside"), fileEntry("out/.wh.secret", 0o644, "")), layer)
	// (Go 1.25.0 says "file exists" here, later versions "path escapes":
	// whatever the words, it must be refused, and outside stays untouched.)
	assert.Error(t, err, "a whiteout behind a symlink out is refused")
	var st unix.Stat_t
	require.NoError(t, unix.Lstat(filepath.Join(layer, "etc/passwd"), &st))
	assert.Equal(t, uint32(unix.S_IFCHR), st.Mode&unix.S_IFMT, "a character device")
	assert.Equal(t, uint64(0), st.Rdev, "0:0")
	require.NoError(t, unix.Lstat(filepath.Join(layer, "top"), &st))
	buf := make([]byte, 8)
	var n int
	n, err = unix.Lgetxattr(filepath.Join(layer, "opt"), opaqueXattr, buf)
	require.NoError(t, err)
	assert.Equal(t, "y", string(buf[:n]))
	_, err = os.Lstat(filepath.Join(layer, "var/..wh.plnk"))
	assert.ErrorIs(t, err, os.ErrNotExist, "AUFS's own files are no deletions")
	assertUntouched(t, outside)
}

func TestStoreNamesImages(t *testing.T) {
	s := OpenStore(t.TempDir())
	img, err := s.Import(archive(t, fileEntry("hello", 0o644, "hi")), "hello", "test")
	require.NoError(t, err)
	assert.Equal(t, "hello:latest", img.Name)
	found, err := s.Find("hello")
	require.NoError(t, err)
	assert.Equal(t, img.ID(), found.ID())
	found, err = s.Find(img.ID().Encoded()[:8])
	require.NoError(t, err, "an id prefix names it too")
	assert.Equal(t, "hello:latest", found.Name)

	require.NoError(t, s.Tag("hello:v2", img.Desc))
	images, err := s.List()
	require.NoError(t, err)
	assert.Len(t, images, 2)
	require.NoError(t, s.Untag("hello:latest"))
	_, err = s.Find("hello")
	assert.ErrorIs(t, err, ErrNoSuchImage)
	_, err = s.Find("hello:v2")
	assert.NoError(t, err)
	assert.ErrorIs(t, s.Untag("hello:latest"), ErrNoSuchImage)

	data, err := os.ReadFile(filepath.Join(s.Dir(), "oci-layout"))
	require.NoError(t, err)
	assert.JSONEq(t, `{"imageLayoutVersion": "1.0.0"}`, string(data))
}

// A blob whose bytes no longer match its digest is refused.
func TestStoreRefusesADamagedBlob(t *testing.T) {
	s := OpenStore(t.TempDir())
	img, err := s.Import(archive(t, fileEntry("hello", 0o644, "hi")), "hello", "test")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(s.BlobPath(img.Manifest.Config.Digest), []byte(`{"architecture":"evil"}`), 0o600))
	_, err = s.Find("hello")
	assert.ErrorContains(t, err, "is damaged")
}

// Three layers, unpacked once each, stacked top first; the short links
// lead to them.
func TestLayersOfAThreeLayerImage(t *testing.T) {
	stateRoot := t.TempDir()
	s := OpenStore(stateRoot)
	var layers []v1.Descriptor
	var diffIDs []digest.Digest
	for _, body := range []string{"one", "two", "three"} {
		d, err := s.WriteBlob(archive(t, fileEntry(body, 0o644, body)), v1.MediaTypeImageLayer)
		require.NoError(t, err)
		layers, diffIDs = append(layers, d), append(diffIDs, d.Digest)
	}
	_, err := s.AddImage("three:latest", v1.Image{RootFS: v1.RootFS{Type: "layers", DiffIDs: diffIDs}}, layers)
	require.NoError(t, err)
	lower, err := Layers(stateRoot, "three")
	require.NoError(t, err)
	require.Len(t, lower, 3)
	for i, body := range []string{"three", "two", "one"} {
		assert.True(t, strings.HasPrefix(lower[i], "l/"), lower[i])
		assertContent(t, body, filepath.Join(LayersDir(stateRoot), lower[i], body))
	}
	again, err := Layers(stateRoot, "three")
	require.NoError(t, err)
	assert.Equal(t, lower, again, "unpacked once, the same links")
}

// The earlier chapters' images/NAME.tar is moved into the store on first use.
func TestLegacyArchiveIsImportedOnce(t *testing.T) {
	stateRoot := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(stateRoot, "images"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(stateRoot, "images", "old.tar"), archive(t, fileEntry("f", 0o644, "x")).Bytes(), 0o644))
	lower, err := Layers(stateRoot, "old")
	require.NoError(t, err)
	assert.Len(t, lower, 1)
	_, err = os.Stat(filepath.Join(stateRoot, "images", "old.tar"))
	assert.ErrorIs(t, err, os.ErrNotExist, "moved into the store")
	_, err = OpenStore(stateRoot).Find("old:latest")
	assert.NoError(t, err)
	_, err = Layers(stateRoot, "missing")
	assert.ErrorContains(t, err, "mydocker import FILE missing")
}

// A blob that a killed writer left half written goes at the next GC; one
// still being written (its file locked) stays.
func TestGCRemovesAbandonedWrites(t *testing.T) {
	stateRoot := t.TempDir()
	s := OpenStore(stateRoot)
	_, err := s.Import(archive(t, fileEntry("f", 0o644, "x")), "kept", "test")
	require.NoError(t, err)
	dir := filepath.Join(s.Dir(), "blobs", "sha256")
	abandoned, busy := filepath.Join(dir, ".writing-1"), filepath.Join(dir, ".writing-2")
	require.NoError(t, os.WriteFile(abandoned, []byte("half"), 0o600))
	require.NoError(t, os.WriteFile(busy, []byte("half"), 0o600))
	f, err := os.Open(busy)
	require.NoError(t, err)
	defer f.Close()
	require.NoError(t, unix.Flock(int(f.Fd()), unix.LOCK_EX))

	removed, err := s.GC(nil)
	require.NoError(t, err)
	assert.Empty(t, removed, "the named image stays")
	assert.NoFileExists(t, abandoned)
	assert.FileExists(t, busy)
	_, err = s.Find("kept")
	assert.NoError(t, err)
}
