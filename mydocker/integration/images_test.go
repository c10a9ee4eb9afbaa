//book:file images

package integration

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mydocker-book/mydocker/mydocker/image"
)

// layerTar is a layer's tar: files by name and content; a name ending in
// / is a directory.
func layerTar(t *testing.T, files ...string) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		name, body, _ := strings.Cut(f, "=")
		hdr := &tar.Header{Name: name, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(body))}
		if strings.HasSuffix(name, "/") {
			hdr = &tar.Header{Name: name, Mode: 0o755, Typeflag: tar.TypeDir}
		}
		require.NoError(t, tw.WriteHeader(hdr))
		_, err := tw.Write([]byte(body))
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	return &buf
}

// addLayeredImage stores an image of the test image's layer and the
// layers given on top of it, bottom first.
func (e *env) addLayeredImage(name string, layers ...*bytes.Buffer) {
	e.t.Helper()
	store := image.OpenStore(e.root)
	base, err := os.Open(testImage)
	require.NoError(e.t, err)
	defer base.Close()
	bottom, err := store.WriteBlob(base, v1.MediaTypeImageLayer)
	require.NoError(e.t, err)
	descs, diffIDs := []v1.Descriptor{bottom}, []digest.Digest{bottom.Digest}
	for _, l := range layers {
		d, err := store.WriteBlob(l, v1.MediaTypeImageLayer)
		require.NoError(e.t, err)
		descs, diffIDs = append(descs, d), append(diffIDs, d.Digest)
	}
	_, err = store.AddImage(name+":latest", v1.Image{RootFS: v1.RootFS{Type: "layers", DiffIDs: diffIDs}}, descs)
	require.NoError(e.t, err)
}

// Layers stack in order: a file of an upper layer hides the one below, a
// whiteout deletes one, an opaque directory hides what the layers below
// have in it.
func TestAThreeLayerImage(t *testing.T) {
	e := newEnv(t)
	e.addLayeredImage("layered",
		layerTar(t, "data/", "data/kept=1", "data/replaced=1", "data/deleted=1", "opaque/", "opaque/old=1"),
		layerTar(t, "data/replaced=2", "data/.wh.deleted=", "opaque/.wh..wh..opq=", "opaque/new=2"),
	)
	r := e.mydocker("run", "--rm", "layered", busyboxCmd, "sh", "-c",
		"cat /data/kept /data/replaced; ls -a /data /opaque; ls /bin/busybox")
	require.Equal(t, 0, r.code, "%s", r)
	assert.Equal(t, "12/data:\n.\n..\nkept\nreplaced\n\n/opaque:\n.\n..\nnew\n/bin/busybox\n", r.stdout)
	lower := e.mydocker("--debug", "run", "--rm", "layered", "true")
	assert.Regexp(t, `lowerdir=l/[0-9a-f]{12}:l/[0-9a-f]{12}:l/[0-9a-f]{12},upperdir=`, lower.stderr, "three short links, top first")
}

func TestImportImagesTagAndRmi(t *testing.T) {
	e := newEnv(t)
	tarball := filepath.Join(t.TempDir(), "hello.tar")
	require.NoError(t, os.WriteFile(tarball, layerTar(t, "hello=world").Bytes(), 0o644))
	r := e.mydocker("import", tarball, "hello:v1")
	require.Equal(t, 0, r.code, "%s", r)
	assert.Regexp(t, `^sha256:[0-9a-f]{64}\n$`, r.stdout, "the image id, as docker import prints it")
	id := strings.TrimPrefix(strings.TrimSpace(r.stdout), "sha256:")[:12]

	require.Equal(t, 0, e.mydocker("tag", "hello:v1", "hello:latest").code)
	r = e.mydocker("images")
	require.Equal(t, 0, r.code, "%s", r)
	assert.Regexp(t, `^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE\n`, r.stdout)
	assert.Regexp(t, `\nhello +v1 +`+id+` +.* ago +[0-9.]+kB\n`, r.stdout)
	assert.Regexp(t, `\nhello +latest +`+id+` `, r.stdout)

	e.runDetached("--name", "user", "--", busyboxCmd, "sleep", "1000") // the test image
	r = e.mydocker("rmi", testImageName)
	assert.Equal(t, 1, r.code, "%s", r)
	assert.Contains(t, r.stderr, `conflict: unable to remove repository reference "`+testImageName+`" (must force) - container `)
	r = e.mydocker("rmi", "hello:v1")
	require.Equal(t, 0, r.code, "%s", r)
	assert.Equal(t, "Untagged: hello:v1\n", r.stdout)
	r = e.mydocker("run", "--rm", "hello", busyboxCmd, "true")
	assert.Equal(t, 127, r.code, "the image has no busybox: the command is looked up in it\n%s", r)
	r = e.mydocker("run", "--rm", "nosuch", "true")
	assert.Equal(t, 125, r.code, "%s", r)
	assert.Contains(t, r.stderr, "no such image: nosuch")
}

// A malicious archive writes nothing outside the store.
func TestImportRefusesAnArchiveThatClimbsOut(t *testing.T) {
	e := newEnv(t)
	outside := filepath.Join(t.TempDir(), "victim")
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "../../../../../../.." + outside, Mode: 0o644, Typeflag: tar.TypeReg, Size: 1}))
	_, _ = tw.Write([]byte("x"))
	require.NoError(t, tw.Close())
	tarball := filepath.Join(t.TempDir(), "evil.tar")
	require.NoError(t, os.WriteFile(tarball, buf.Bytes(), 0o644))
	r := e.mydocker("import", tarball, "evil")
	assert.Equal(t, 1, r.code, "%s", r)
	assert.Contains(t, r.stderr, "climbs out")
	_, err := os.Stat(outside)
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.NotContains(t, e.mydocker("images").stdout, "evil", "no image is named after a refused archive")
}
