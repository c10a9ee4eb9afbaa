//book:file images

package integration

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

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
	sameOnEveryCgroupVersion(t)
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
	sameOnEveryCgroupVersion(t)
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
	sameOnEveryCgroupVersion(t)
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

// commit makes a layer of what the container wrote: a new file, a file
// of the image deleted (it stays deleted), a directory replaced (opaque).
func TestCommitKeepsChangesAndDeletions(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	r := e.mydocker("run", "--keep", "--name", "changer", "-e", "MODE=committed", "-w", "/srv", "--", busyboxCmd, "sh", "-c",
		"echo new > /new; rm /etc/passwd; rm -r /home; mkdir /home; echo x > /home/only; echo $MODE > /srv/mode")
	require.Equal(t, 0, r.code, "%s", r)
	t.Cleanup(func() { e.mydocker("rm", "-f", "changer") })
	r = e.mydocker("commit", "-m", "a test", "changer", "changed:v1")
	require.Equal(t, 0, r.code, "%s", r)
	assert.Regexp(t, `^sha256:[0-9a-f]{64}\n$`, r.stdout)

	r = e.mydocker("run", "--rm", "changed:v1", busyboxCmd, "sh", "-c",
		"cat /new; ls /etc/passwd 2>&1; ls -a /home; echo $MODE; pwd; ls /bin/busybox")
	require.Equal(t, 0, r.code, "%s", r)
	assert.Equal(t, "new\nls: /etc/passwd: No such file or directory\n.\n..\nonly\ncommitted\n/srv\n/bin/busybox\n", r.stdout,
		"the change, the deletion and the replaced directory; the container's -e and -w are the image's defaults")
	r = e.mydocker("run", "--rm", "changed:v1")
	assert.Equal(t, 0, r.code, "the container's command is the image's Cmd\n%s", r)
	r = e.mydocker("history", "changed:v1")
	assert.Regexp(t, `^IMAGE +CREATED +CREATED BY +SIZE +COMMENT\n[0-9a-f]{12} .* mydocker commit [0-9a-f]{12}: .* a test\n<missing> `, r.stdout)
}

// A --rm container's layer goes with it, so overlay may skip the syncs
// that make a layer survive a crash (volatile): a kept container's layer
// stays durable.
func TestOnlyTheLayerOfARmContainerIsVolatile(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	rootOptions := func(flags ...string) []string {
		t.Helper()
		r := e.mydocker(slices.Concat([]string{"run"}, flags, []string{"--", busyboxCmd, "grep", " / / ", "/proc/self/mountinfo"})...)
		require.Equal(t, 0, r.code, "%s", r)
		_, super, ok := strings.Cut(strings.TrimSpace(r.stdout), " - ")
		require.True(t, ok && len(strings.Fields(super)) == 3, "the root's line of mountinfo\n%s", r)
		return strings.Split(strings.Fields(super)[2], ",")
	}
	// Newer kernels show it as fsync=volatile.
	volatile := func(options []string) bool {
		return slices.Contains(options, "volatile") || slices.Contains(options, "fsync=volatile")
	}
	rm := rootOptions("--rm")
	assert.True(t, volatile(rm), "the --rm container's root: %q", rm)
	kept := rootOptions("--keep", "--name", "durable")
	t.Cleanup(func() { e.mydocker("rm", "-f", "durable") })
	assert.False(t, volatile(kept), "the kept container's root: %q", kept)
}

// A running container is paused while its layer is written, and runs on.
func TestCommitOfARunningContainer(t *testing.T) {
	e := newEnv(t)
	read := e.counter("busy")
	r := e.mydocker("commit", "busy", "snapshot")
	require.Equal(t, 0, r.code, "%s", r)
	assert.Equal(t, "running false", e.inspect("busy", "{{.State.Status}} {{.State.Paused}}"), "unpaused after")
	before := read()
	deadline := time.Now().Add(patient(5 * time.Second))
	for read() == before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	assert.NotEqual(t, before, read(), "it counts on")
	r = e.mydocker("run", "--rm", "snapshot", busyboxCmd, "cat", "/tmp/n")
	require.Equal(t, 0, r.code, "%s", r)
	assert.Regexp(t, `^\d+\n$`, r.stdout, "the counter's file, as it was at the commit")
}

// tarNames lists the names in a tar.
func tarNames(t *testing.T, data []byte) []string {
	t.Helper()
	var names []string
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if err != nil {
			break
		}
		names = append(names, hdr.Name)
	}
	return names
}

func TestExportIsTheMergedFilesystem(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	require.Equal(t, 0, e.mydocker("run", "--keep", "--name", "gone", "--", busyboxCmd, "sh", "-c", "echo new > /new; rm /etc/passwd").code)
	t.Cleanup(func() { e.mydocker("rm", "-f", "gone") })
	out := filepath.Join(t.TempDir(), "gone.tar")
	r := e.mydocker("export", "-o", out, "gone")
	require.Equal(t, 0, r.code, "%s", r)
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	names := tarNames(t, data)
	assert.Contains(t, names, "new")
	assert.Contains(t, names, "bin/busybox")
	assert.Contains(t, names, "proc/", "the mount point, empty")
	assert.NotContains(t, names, "etc/passwd", "deleted in the container")
	for _, n := range names {
		assert.False(t, strings.HasPrefix(n, "proc/") && n != "proc/", "nothing of /proc: %s", n)
		assert.False(t, strings.HasPrefix(n, ".wh.") || strings.Contains(n, "/.wh."), "no whiteout in a merged view: %s", n)
	}

	e.runDetached("--name", "live", "--", busyboxCmd, "sh", "-c", "echo live > /live; exec "+busyboxCmd+" sleep 1000")
	e.waitForFile("live", "/live")
	r = e.mydocker("export", "-o", out, "live")
	require.Equal(t, 0, r.code, "%s", r)
	data, err = os.ReadFile(out)
	require.NoError(t, err)
	assert.Contains(t, tarNames(t, data), "live", "a running container too")
	assert.Equal(t, "running false", e.inspect("live", "{{.State.Status}} {{.State.Paused}}"))
}

// waitForFile waits until a running container has a file.
func (e *env) waitForFile(ref, name string) {
	e.t.Helper()
	deadline := time.Now().Add(patient(10 * time.Second))
	for e.mydocker("exec", ref, busyboxCmd, "test", "-e", name).code != 0 {
		require.True(e.t, time.Now().Before(deadline), "%s never appeared in %s", name, ref)
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSaveAndLoad(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	require.Equal(t, 0, e.mydocker("run", "--keep", "--name", "maker", "--", busyboxCmd, "sh", "-c", "echo saved > /saved").code)
	t.Cleanup(func() { e.mydocker("rm", "-f", "maker") })
	require.Equal(t, 0, e.mydocker("commit", "maker", "saved:v1").code)
	archive := filepath.Join(t.TempDir(), "saved.tar")
	r := e.mydocker("save", "-o", archive, "saved:v1")
	require.Equal(t, 0, r.code, "%s", r)
	require.Equal(t, 0, e.mydocker("rm", "maker").code)
	require.Equal(t, 0, e.mydocker("rmi", "saved:v1").code)

	r = e.mydocker("load", "-i", archive)
	require.Equal(t, 0, r.code, "%s", r)
	assert.Equal(t, "Loaded image: saved:v1\n", r.stdout)
	r = e.mydocker("run", "--rm", "saved:v1", busyboxCmd, "cat", "/saved")
	assert.Equal(t, "saved\n", r.stdout, "%s", r)

	// One byte changed in a blob: refused, and nothing named.
	data, err := os.ReadFile(archive)
	require.NoError(t, err)
	i := bytes.LastIndex(data, []byte("saved\n"))
	require.Positive(t, i)
	data[i] = 'S'
	require.Equal(t, 0, e.mydocker("rmi", "saved:v1").code)
	require.NoError(t, os.WriteFile(archive, data, 0o600))
	r = e.mydocker("load", "-i", archive)
	assert.Equal(t, 1, r.code, "%s", r)
	assert.Contains(t, r.stderr, "the archive is damaged")
	assert.NotContains(t, e.mydocker("images").stdout, "saved")

	// docker save before Docker 25: its own format, refused with what to do.
	var old bytes.Buffer
	tw := tar.NewWriter(&old)
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "manifest.json", Mode: 0o644, Size: 2, Typeflag: tar.TypeReg}))
	_, _ = tw.Write([]byte("[]"))
	require.NoError(t, tw.Close())
	require.NoError(t, os.WriteFile(archive, old.Bytes(), 0o600))
	r = e.mydocker("load", "-i", archive)
	assert.Equal(t, 1, r.code, "%s", r)
	assert.Contains(t, r.stderr, "skopeo copy docker-archive:FILE oci-archive:OUT:NAME")
}

// An image's defaults, and how run's flags combine with them, as in Docker.
func TestImageDefaults(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	store := image.OpenStore(e.root)
	base, err := os.Open(testImage)
	require.NoError(t, err)
	defer base.Close()
	layer, err := store.WriteBlob(base, v1.MediaTypeImageLayer)
	require.NoError(t, err)
	config := v1.Image{RootFS: v1.RootFS{Type: "layers", DiffIDs: []digest.Digest{layer.Digest}}}
	config.Config.Entrypoint = []string{busyboxCmd, "echo", "from-entrypoint"}
	config.Config.Cmd = []string{"from-cmd"}
	config.Config.Env = []string{"PATH=/bin", "FROM=image"}
	config.Config.WorkingDir = "/tmp"
	_, err = store.AddImage("defaults:latest", config, []v1.Descriptor{layer})
	require.NoError(t, err)

	r := e.mydocker("run", "--rm", "defaults")
	assert.Equal(t, "from-entrypoint from-cmd\n", r.stdout, "Entrypoint, then Cmd\n%s", r)
	r = e.mydocker("run", "--rm", "defaults", "given")
	assert.Equal(t, "from-entrypoint given\n", r.stdout, "the arguments replace Cmd\n%s", r)
	r = e.mydocker("run", "--rm", "-e", "FROM=flag", "--entrypoint", busyboxCmd, "defaults", "sh", "-c", "echo $FROM $PATH; pwd")
	assert.Equal(t, "flag /bin\n/tmp\n", r.stdout, "--entrypoint replaces both; -e wins over the image's Env\n%s", r)
}

// needTool finds a tool the test reads mydocker's images with; CI has
// them all (scripts/provision.sh), a reader's machine may not.
func needTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing: scripts/provision.sh installs it", name)
		}
		t.Skipf("%s is not installed (scripts/provision.sh installs it)", name)
	}
	return path
}

func runTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(needTool(t, name), args...).CombinedOutput()
	require.NoError(t, err, "%s %s\n%s", name, strings.Join(args, " "), out)
	return string(out)
}

// treeOf lists the names below dir, "/"-terminated for directories.
func treeOf(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			rel += "/"
		}
		names = append(names, rel)
		return nil
	}))
	return names
}

// Tools no one here wrote read mydocker's images, and mydocker reads
// theirs: skopeo inspects and copies an archive of `save`, umoci unpacks
// it to the same tree as `export`, and an archive made by skopeo loads
// and runs.
func TestImagesInteroperateWithSkopeoAndUmoci(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	needTool(t, "skopeo")
	needTool(t, "umoci")
	e := newEnv(t)
	require.Equal(t, 0, e.mydocker("run", "--keep", "--name", "maker", "--", busyboxCmd, "sh", "-c",
		"echo made > /made; rm /etc/passwd; rm -r /home; mkdir /home; echo x > /home/only").code)
	t.Cleanup(func() { e.mydocker("rm", "-f", "maker") })
	require.Equal(t, 0, e.mydocker("commit", "maker", "made:v1").code)
	work := t.TempDir()
	archive := filepath.Join(work, "made.tar")
	require.Equal(t, 0, e.mydocker("save", "-o", archive, "made:v1").code)

	var inspected struct {
		Architecture string
		Layers       []string
	}
	require.NoError(t, json.Unmarshal([]byte(runTool(t, "skopeo", "inspect", "oci-archive:"+archive)), &inspected))
	assert.Len(t, inspected.Layers, 2, "the image's layer and the commit's")

	layout := filepath.Join(work, "layout")
	runTool(t, "skopeo", "copy", "oci-archive:"+archive, "oci:"+layout+":made")
	bundle := filepath.Join(work, "bundle")
	runTool(t, "umoci", "unpack", "--image", layout+":made", bundle)
	exported := filepath.Join(work, "exported")
	require.NoError(t, os.Mkdir(exported, 0o755))
	require.Equal(t, 0, e.mydocker("run", "--keep", "--name", "view", "made:v1", "true").code)
	t.Cleanup(func() { e.mydocker("rm", "-f", "view") })
	tarball := filepath.Join(work, "view.tar")
	require.Equal(t, 0, e.mydocker("export", "-o", tarball, "view").code)
	out, err := exec.Command("tar", "-xf", tarball, "-C", exported).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, treeOf(t, exported), treeOf(t, filepath.Join(bundle, "rootfs")), "umoci's tree is export's")
	assert.NoFileExists(t, filepath.Join(bundle, "rootfs", "etc", "passwd"), "umoci honours the whiteout")

	back := filepath.Join(work, "back.tar")
	runTool(t, "skopeo", "copy", "oci:"+layout+":made", "oci-archive:"+back+":back:v2")
	r := e.mydocker("load", "-i", back)
	require.Equal(t, 0, r.code, "%s", r)
	assert.Equal(t, "Loaded image: back:v2\n", r.stdout)
	r = e.mydocker("run", "--rm", "back:v2", busyboxCmd, "sh", "-c", "cat /made; ls /home")
	assert.Equal(t, "made\nonly\n", r.stdout, "%s", r)
}

// A relative --root names the same directory for every step: the overlay
// mount names the lower layers relative to the layer store, and the
// container's upper layer must not be looked for there.
func TestARelativeStateRootIsTheSameDirectory(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := e.command(ctx, "--root", filepath.Base(e.root), "run", "--", busyboxCmd, "hostname")
	cmd.Dir = filepath.Dir(e.root)
	r := e.run(ctx, cmd)
	require.Equal(t, 0, r.code, "%s", r)
	assert.Len(t, strings.TrimSpace(r.stdout), 12, "the container ran, with its short id as hostname")
}

// What a malicious archive tries, each imported on its own: a file
// written through an absolute symlink, a hard link to a host file (both
// refused), a device node (skipped). Nothing lands outside the store.
func TestImportedTricksStayInside(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	victim := filepath.Join(t.TempDir(), "victim")
	require.NoError(t, os.WriteFile(victim, []byte("host"), 0o600))
	tricks := []struct {
		name    string
		entries []*tar.Header
		refusal string // "" when the import succeeds
	}{
		{"through-symlink", []*tar.Header{
			{Name: "abs", Typeflag: tar.TypeSymlink, Linkname: filepath.Dir(victim), Mode: 0o777},
			{Name: "abs/victim", Typeflag: tar.TypeReg, Mode: 0o644, Size: 5},
		}, `image archive entry "abs/victim"`}, // os.Root's own words differ between Go releases
		{"hard-link-out", []*tar.Header{{Name: "hard", Typeflag: tar.TypeLink, Linkname: victim, Mode: 0o644}}, "hard"},
		{"device", []*tar.Header{{Name: "disk", Typeflag: tar.TypeBlock, Devmajor: 8, Devminor: 0, Mode: 0o666}}, ""},
	}
	for _, trick := range tricks {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for _, h := range trick.entries {
			require.NoError(t, tw.WriteHeader(h))
			if h.Size > 0 {
				_, _ = tw.Write([]byte("owned"))
			}
		}
		require.NoError(t, tw.Close())
		tarball := filepath.Join(t.TempDir(), trick.name+".tar")
		require.NoError(t, os.WriteFile(tarball, buf.Bytes(), 0o644))
		r := e.mydocker("import", tarball, trick.name)
		if trick.refusal != "" {
			assert.Equal(t, 1, r.code, "%s", r)
			assert.Contains(t, r.stderr, trick.refusal, "%s", r)
			continue
		}
		assert.Equal(t, 0, r.code, "%s", r)
	}
	data, err := os.ReadFile(victim)
	require.NoError(t, err)
	assert.Equal(t, "host", string(data), "the host's file is untouched")
	var st unix.Stat_t
	require.NoError(t, unix.Stat(victim, &st))
	assert.Equal(t, uint64(1), uint64(st.Nlink), "and has no second name")
	blocks, _ := filepath.Glob(filepath.Join(e.root, "layers", "*", "disk"))
	assert.Empty(t, blocks, "no device node from an image")
	images := e.mydocker("images").stdout
	assert.NotContains(t, images, "through-symlink")
	assert.NotContains(t, images, "hard-link-out")
}

// rmi of an image's last name removes its blobs and layers, unless a
// container still uses it: then only the name goes (-f), and the
// container starts again on the very same image.
func TestRmiRemovesWhatNoImageNeeds(t *testing.T) {
	sameOnEveryCgroupVersion(t)
	e := newEnv(t)
	require.Equal(t, 0, e.mydocker("run", "--keep", "--name", "maker", "--", busyboxCmd, "sh", "-c", "echo big > /big").code)
	t.Cleanup(func() { e.mydocker("rm", "-f", "maker", "user") })
	require.Equal(t, 0, e.mydocker("commit", "maker", "big:v1").code)
	layers := func() int { l, _ := filepath.Glob(filepath.Join(e.root, "layers", "[0-9a-f]*")); return len(l) }
	blobs := func() int {
		b, _ := filepath.Glob(filepath.Join(e.root, "images", "blobs", "sha256", "[0-9a-f]*"))
		return len(b)
	}
	before, beforeBlobs := layers(), blobs()

	require.Equal(t, 0, e.mydocker("run", "--keep", "--name", "user", "big:v1", busyboxCmd, "cat", "/big").code)
	assert.Equal(t, before+1, layers(), "the commit's layer, unpacked by the run")
	r := e.mydocker("rmi", "big:v1")
	assert.Equal(t, 1, r.code, "container user uses it\n%s", r)
	r = e.mydocker("rmi", "-f", "big:v1")
	require.Equal(t, 0, r.code, "%s", r)
	assert.Equal(t, "Untagged: big:v1\n", r.stdout, "the name only: a container uses the image")
	r = e.mydocker("start", "-a", "user")
	assert.Equal(t, "big\n", r.stdout, "it starts again on its image\n%s", r)

	require.Equal(t, 0, e.mydocker("rm", "user").code)
	require.Equal(t, 0, e.mydocker("tag", testImageName, "spare").code)
	r = e.mydocker("rmi", "spare")
	require.Equal(t, 0, r.code, "%s", r)
	assert.Regexp(t, `^Untagged: spare:latest\nDeleted: sha256:[0-9a-f]{64}\n$`, r.stdout,
		"spare was one more name of the test image, which stays; the unnamed image no container uses goes")
	assert.Equal(t, before, layers(), "its unpacked layer too")
	assert.Equal(t, beforeBlobs-3, blobs(), "its manifest, config and layer")
}
