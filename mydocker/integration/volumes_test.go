//book:file volumes

package integration

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// What a container writes into a volume is on the host, in a directory
// mydocker created, and the next container finds it there.
func TestVolumeWritesReachTheHostAndOutliveTheContainer(t *testing.T) {
	e := newEnv(t)
	host := filepath.Join(e.root, "data", "not-there-yet")
	r := e.mydocker("run", "-v", host+":/data", "--", "sh", "-c", "echo written inside > /data/file")
	require.Equal(t, 0, r.code, r.String())
	content, err := os.ReadFile(filepath.Join(host, "file"))
	require.NoError(t, err, "the file should be on the host")
	assert.Equal(t, "written inside\n", string(content))

	r = e.mydocker("run", "-v", host+":/srv/other:rw", "--", "cat", "/srv/other/file")
	require.Equal(t, 0, r.code, r.String())
	assert.Equal(t, "written inside\n", r.stdout, r.String())
}

func TestReadOnlyVolumeRefusesWrites(t *testing.T) {
	e := newEnv(t)
	host := filepath.Join(e.root, "config")
	require.NoError(t, os.MkdirAll(host, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(host, "file"), []byte("original\n"), 0o644))

	r := e.mydocker("run", "-v", host+":/config:ro", "--", "sh", "-c", "cat /config/file; echo changed > /config/file")
	assert.NotEqual(t, 0, r.code, r.String())
	assert.Equal(t, "original\n", r.stdout, "a read-only volume can still be read\n%s", r)
	assert.Contains(t, r.stderr, "Read-only file system", r.String())
	content, err := os.ReadFile(filepath.Join(host, "file"))
	require.NoError(t, err)
	assert.Equal(t, "original\n", string(content), "the host file must not change")
}

func TestSeveralVolumesAndAFile(t *testing.T) {
	e := newEnv(t)
	one, two := filepath.Join(e.root, "one"), filepath.Join(e.root, "two,with a comma")
	file := filepath.Join(e.root, "greeting")
	require.NoError(t, os.WriteFile(file, []byte("hello\n"), 0o644))
	r := e.mydocker("run", "-v", one+":/one", "-v", two+":/two", "-v", file+":/etc/greeting:ro",
		"--", "sh", "-c", "touch /one/a /two/b; cat /etc/greeting")
	require.Equal(t, 0, r.code, r.String())
	assert.Equal(t, "hello\n", r.stdout, r.String())
	assert.FileExists(t, filepath.Join(one, "a"))
	assert.FileExists(t, filepath.Join(two, "b"))
}

// The image says /data -> /etc. The volume must land on the container's
// /etc, the link's target inside the container, and mydocker must not
// create or touch the absolute target path on the host.
func TestVolumeDestinationResolvesInsideTheImage(t *testing.T) {
	e := newEnv(t)
	hostTarget := filepath.Join(e.root, "host-side", "etc")
	e.installImage("data-link", map[string]string{"data": "/etc", "srv": hostTarget})
	volume := filepath.Join(e.root, "volume")
	require.NoError(t, os.MkdirAll(volume, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(volume, "from-volume"), nil, 0o644))

	r := e.mydocker("run", "-v", volume+":/data", "-v", volume+":/srv", "data-link", "sh", "-c", "ls /etc/from-volume "+hostTarget+"/from-volume")
	require.Equal(t, 0, r.code, r.String())
	assert.NoDirExists(t, filepath.Join(e.root, "host-side"), "mydocker followed the image's link on the host")
}

func TestBadVolumesAreRefusedWith125(t *testing.T) {
	e := newEnv(t)
	for spec, want := range map[string]string{
		"/host":           "write -v HOST_DIR:CONTAINER_DIR[:ro]",
		":/data":          "write -v HOST_DIR:CONTAINER_DIR[:ro]",
		"/host:":          "write -v HOST_DIR:CONTAINER_DIR[:ro]",
		"/a:/b:ro:extra":  "write -v HOST_DIR:CONTAINER_DIR[:ro]",
		"relative:/data":  "the host path must be absolute",
		"/host:data":      "the path in the container must be absolute",
		"/host:/data:rwx": `unknown mode "rwx", use ro or rw`,
		"/host:/":         "a volume cannot replace the container's root",
		"/host:/data/../": "a volume cannot replace the container's root",
		"/host:/proc":     "/proc is in /proc, which belongs to the kernel",
		"/host:/proc/sys": "/proc/sys is in /proc, which belongs to the kernel",
		"/host:/proc/1/x": "/proc/1/x is in /proc, which belongs to the kernel",
	} {
		r := e.mydocker("run", "-v", spec, "--", "true")
		assert.Equal(t, 125, r.code, r.String())
		assert.Contains(t, r.stderr, want, r.String())
	}
	assert.NoDirExists(t, "/host", "nothing is created for a refused volume")
}

// A volume may not hide /proc, not even through a link in the image; the
// files runc lets lxcfs replace, such as /proc/uptime, stay allowed.
func TestVolumeOverProcIsRefused(t *testing.T) {
	e := newEnv(t)
	e.installImage("proc-link", map[string]string{"data": "/proc"})
	volume := filepath.Join(t.TempDir(), "volume")
	require.NoError(t, os.MkdirAll(volume, 0o755))
	r := e.mydocker("run", "-v", volume+":/data/sys", "proc-link", "true")
	assert.Equal(t, 125, r.code, r.String())
	assert.Contains(t, r.stderr, "/proc/sys is in /proc, which belongs to the kernel", r.String())

	uptime := filepath.Join(t.TempDir(), "uptime")
	require.NoError(t, os.WriteFile(uptime, []byte("1.00 2.00\n"), 0o644))
	r = e.mydocker("run", "-v", uptime+":/proc/uptime:ro", "--", "cat", "/proc/uptime")
	require.Equal(t, 0, r.code, r.String())
	assert.Equal(t, "1.00 2.00\n", r.stdout)
}

// A host path is bytes: a directory whose name is not valid UTF-8 is the
// one mounted, not a look-alike with U+FFFD in its name.
func TestNonUTF8VolumePathIsTheOneMounted(t *testing.T) {
	e := newEnv(t)
	parent := t.TempDir()
	volume := filepath.Join(parent, "caf\xe9")
	require.NoError(t, os.Mkdir(volume, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(volume, "marker"), []byte("the right one\n"), 0o644))
	r := e.mydocker("run", "-v", volume+":/data", "--", "cat", "/data/marker")
	require.Equal(t, 0, r.code, r.String())
	assert.Equal(t, "the right one\n", r.stdout)
	entries, err := os.ReadDir(parent)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "mydocker created a second directory beside the volume")
}
