//book:file rootfs

package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// mtime is a whole second: a plain ustar header cannot store less.
var mtime = time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)

// testEntry is one entry of an archive built by the tests.
type testEntry struct {
	hdr  tar.Header
	body string
}

func dirEntry(name string, mode int64) testEntry {
	return testEntry{hdr: tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: mode}}
}

func fileEntry(name string, mode int64, body string) testEntry {
	return testEntry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(body))}, body: body}
}

func symlinkEntry(name, target string) testEntry {
	return testEntry{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777}}
}

func hardlinkEntry(name, target string) testEntry {
	return testEntry{hdr: tar.Header{Typeflag: tar.TypeLink, Name: name, Linkname: target, Mode: 0o644}}
}

func deviceEntry(typeflag byte, name string, major, minor int64) testEntry {
	return testEntry{hdr: tar.Header{Typeflag: typeflag, Name: name, Mode: 0o660, Devmajor: major, Devminor: minor}}
}

// testOwner is who the entries belong to. Only root may give files away, so
// other users unpack files as their own.
func testOwner() (uid, gid int) {
	if os.Geteuid() == 0 {
		return 1000, 1001
	}
	return os.Getuid(), os.Getgid()
}

// archive writes the entries into an uncompressed tar stream.
func archive(t *testing.T, entries ...testEntry) *bytes.Buffer {
	t.Helper()
	uid, gid := testOwner()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := e.hdr
		if hdr.Typeflag != tar.TypeXGlobalHeader {
			hdr.Uid, hdr.Gid = uid, gid
			hdr.ModTime = mtime
		}
		require.NoError(t, tw.WriteHeader(&hdr), hdr.Name)
		_, err := tw.Write([]byte(e.body))
		require.NoError(t, err, hdr.Name)
	}
	require.NoError(t, tw.Close())
	return &buf
}

// sandbox returns an empty root filesystem directory and, next to it, a
// directory holding a file named secret that no archive may touch.
func sandbox(t *testing.T) (rootfs, outside string) {
	t.Helper()
	base := t.TempDir()
	rootfs = filepath.Join(base, "rootfs")
	outside = filepath.Join(base, "outside")
	require.NoError(t, os.Mkdir(rootfs, 0o755))
	require.NoError(t, os.Mkdir(outside, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o600))
	return rootfs, outside
}

// assertUntouched checks that outside still holds only the secret, unchanged
// and with no second name.
func assertUntouched(t *testing.T, outside string) {
	t.Helper()
	names, err := os.ReadDir(outside)
	require.NoError(t, err)
	if assert.Len(t, names, 1) {
		assert.Equal(t, "secret", names[0].Name())
	}
	fi, err := os.Stat(outside)
	require.NoError(t, err)
	assert.Equal(t, fs.ModeDir|0o755, fi.Mode(), "mode of %s", outside)
	secret := filepath.Join(outside, "secret")
	data, err := os.ReadFile(secret)
	require.NoError(t, err)
	assert.Equal(t, "secret", string(data))
	assert.Equal(t, uint64(1), linkCount(t, secret), "hardlinks to %s", secret)
}

func linkCount(t *testing.T, name string) uint64 {
	t.Helper()
	fi, err := os.Lstat(name)
	require.NoError(t, err)
	return uint64(fi.Sys().(*syscall.Stat_t).Nlink)
}

func assertMode(t *testing.T, want fs.FileMode, name string) {
	t.Helper()
	fi, err := os.Lstat(name)
	if assert.NoError(t, err) {
		assert.Equal(t, want, fi.Mode(), "mode of %s (%v)", name, fi.Mode())
	}
}

func assertContent(t *testing.T, want, name string) {
	t.Helper()
	data, err := os.ReadFile(name)
	if assert.NoError(t, err) {
		assert.Equal(t, want, string(data), name)
	}
}

func TestUnpackTree(t *testing.T) {
	rootfs, _ := sandbox(t)
	err := Unpack(archive(t,
		dirEntry("./", 0o755),
		dirEntry("./usr/", 0o755),
		dirEntry("./usr/bin/", 0o750),
		fileEntry("./usr/bin/tool", 0o755, "#!/bin/sh\n"),
		fileEntry("./usr/bin/notes", 0o640, "notes"),
		symlinkEntry("./bin", "usr/bin"),
		hardlinkEntry("./usr/bin/tool2", "./usr/bin/tool"),
		fileEntry("./etc/hostname", 0o644, "box\n"), // no entry for etc/
	), rootfs)
	require.NoError(t, err)

	assertMode(t, fs.ModeDir|0o750, filepath.Join(rootfs, "usr/bin"))
	assertMode(t, 0o755, filepath.Join(rootfs, "usr/bin/tool"))
	assertMode(t, 0o640, filepath.Join(rootfs, "usr/bin/notes"))
	assertMode(t, fs.ModeDir|0o755, filepath.Join(rootfs, "etc"))
	assertContent(t, "#!/bin/sh\n", filepath.Join(rootfs, "usr/bin/tool"))
	assertContent(t, "box\n", filepath.Join(rootfs, "etc/hostname"))

	target, err := os.Readlink(filepath.Join(rootfs, "bin"))
	require.NoError(t, err)
	assert.Equal(t, "usr/bin", target)

	tool, err := os.Lstat(filepath.Join(rootfs, "usr/bin/tool"))
	require.NoError(t, err)
	tool2, err := os.Lstat(filepath.Join(rootfs, "usr/bin/tool2"))
	require.NoError(t, err)
	assert.True(t, os.SameFile(tool, tool2), "tool2 is a hardlink to tool")

	uid, gid := testOwner()
	for _, name := range []string{".", "usr", "usr/bin", "usr/bin/tool", "usr/bin/notes", "bin", "etc/hostname"} {
		fi, err := os.Lstat(filepath.Join(rootfs, name))
		require.NoError(t, err)
		assert.True(t, mtime.Equal(fi.ModTime()), "mtime of %s is %v", name, fi.ModTime())
		if os.Geteuid() == 0 {
			st := fi.Sys().(*syscall.Stat_t)
			assert.Equal(t, []int{uid, gid}, []int{int(st.Uid), int(st.Gid)}, "owner of %s", name)
		}
	}
}

func TestUnpackGzip(t *testing.T) {
	rootfs, _ := sandbox(t)
	var compressed bytes.Buffer
	zw := gzip.NewWriter(&compressed)
	_, err := zw.Write(archive(t, fileEntry("etc/hostname", 0o644, "box\n")).Bytes())
	require.NoError(t, err)
	require.NoError(t, zw.Close())

	require.NoError(t, Unpack(&compressed, rootfs))
	assertContent(t, "box\n", filepath.Join(rootfs, "etc/hostname"))
}

func TestUnpackNeedsAnExistingDirectory(t *testing.T) {
	err := Unpack(archive(t), filepath.Join(t.TempDir(), "missing"))
	assert.ErrorContains(t, err, "must be an existing directory")
}

func TestUnpackRejectsNamesThatClimbOut(t *testing.T) {
	for _, name := range []string{"../outside/pwned", "a/../../outside/pwned", "/../outside/pwned"} {
		t.Run(name, func(t *testing.T) {
			rootfs, outside := sandbox(t)
			err := Unpack(archive(t, fileEntry(name, 0o644, "pwned")), rootfs)
			assert.ErrorContains(t, err, `image archive entry "`+name+`"`)
			assert.ErrorContains(t, err, "damaged or malicious")
			assertUntouched(t, outside)
		})
	}
}

func TestUnpackAbsoluteNameStaysInside(t *testing.T) {
	rootfs, outside := sandbox(t)
	// Named after the outside directory, which exists on this machine.
	name := filepath.Join(outside, "pwned")
	require.NoError(t, Unpack(archive(t,
		fileEntry("/etc/hostname", 0o644, "box\n"),
		fileEntry(name, 0o644, "inside"),
	), rootfs))
	assertContent(t, "box\n", filepath.Join(rootfs, "etc/hostname"))
	assertContent(t, "inside", filepath.Join(rootfs, name))
	assertUntouched(t, outside)
}

func TestUnpackDoesNotFollowSymlinksOut(t *testing.T) {
	for _, link := range []struct{ name, target string }{
		{"evil", "../outside"},
		{"a/b/evil", "../../../outside"},
		{"evil", "OUTSIDE"},
	} {
		for kind, entry := range map[string]testEntry{
			"file":     fileEntry(link.name+"/pwned", 0o644, "pwned"),
			"dir":      dirEntry(link.name+"/pwned/", 0o777),
			"symlink":  symlinkEntry(link.name+"/pwned", "/"),
			"hardlink": hardlinkEntry(link.name+"/pwned", "etc/hostname"),
		} {
			t.Run(kind+" under "+link.name+" -> "+link.target, func(t *testing.T) {
				rootfs, outside := sandbox(t)
				err := Unpack(archive(t,
					fileEntry("etc/hostname", 0o644, "box\n"),
					symlinkEntry(link.name, strings.Replace(link.target, "OUTSIDE", outside, 1)),
					entry,
				), rootfs)
				assert.ErrorContains(t, err, `image archive entry "`+link.name+`/pwned`)
				assertUntouched(t, outside)
			})
		}
	}
}

func TestUnpackReplacesSymlinkInsteadOfWritingThroughIt(t *testing.T) {
	for kind, entry := range map[string]testEntry{
		"file":     fileEntry("link", 0o600, "new"),
		"dir":      dirEntry("link/", 0o700),
		"symlink":  symlinkEntry("link", "elsewhere"),
		"hardlink": hardlinkEntry("link", "other"),
	} {
		t.Run(kind, func(t *testing.T) {
			rootfs, outside := sandbox(t)
			require.NoError(t, Unpack(archive(t,
				fileEntry("inside", 0o644, "old"),
				dirEntry("insidedir/", 0o755),
				fileEntry("other", 0o644, "other"),
				symlinkEntry("outlink", filepath.Join(outside, "secret")),
				symlinkEntry("link", "inside"),
				symlinkEntry("dirlink", "insidedir"),
			), rootfs))
			for _, link := range []string{"link", "dirlink", "outlink"} {
				e := entry
				e.hdr.Name = strings.Replace(e.hdr.Name, "link", link, 1)
				require.NoError(t, Unpack(archive(t, e), rootfs), link)
				fi, err := os.Lstat(filepath.Join(rootfs, link))
				require.NoError(t, err)
				assert.Equal(t, entry.hdr.FileInfo().Mode().Type(), fi.Mode().Type(), "%s was replaced", link)
			}
			assertContent(t, "old", filepath.Join(rootfs, "inside"))
			assertMode(t, 0o644, filepath.Join(rootfs, "inside"))
			assertMode(t, fs.ModeDir|0o755, filepath.Join(rootfs, "insidedir"))
			assertUntouched(t, outside)
		})
	}
}

func TestUnpackRejectsHardlinksOut(t *testing.T) {
	passwdLinks := linkCount(t, "/etc/passwd")
	for _, tc := range []struct{ target, why string }{
		{"../outside/secret", "damaged or malicious"},
		{"../../outside/secret", "damaged or malicious"},
		{"/etc/passwd", "not in the root filesystem"},
		{"OUTSIDE/secret", "not in the root filesystem"},
		{"up/secret", "not in the root filesystem"},
	} {
		t.Run(tc.target, func(t *testing.T) {
			rootfs, outside := sandbox(t)
			target := strings.Replace(tc.target, "OUTSIDE", outside, 1)
			err := Unpack(archive(t,
				symlinkEntry("up", "../outside"),
				hardlinkEntry("pwned", target),
			), rootfs)
			assert.ErrorContains(t, err, `image archive entry "pwned"`)
			assert.ErrorContains(t, err, tc.why)
			assert.NoFileExists(t, filepath.Join(rootfs, "pwned"))
			assertUntouched(t, outside)
		})
	}
	assert.Equal(t, passwdLinks, linkCount(t, "/etc/passwd"), "hardlinks to /etc/passwd")
}

func TestUnpackSkipsDeviceNodes(t *testing.T) {
	rootfs, _ := sandbox(t)
	log := logtest.NewGlobal()
	defer log.Reset()

	require.NoError(t, Unpack(archive(t,
		deviceEntry(tar.TypeBlock, "dev/sda", 8, 0),
		deviceEntry(tar.TypeChar, "dev/mem", 1, 1),
		fileEntry("etc/hostname", 0o644, "box\n"),
	), rootfs))

	assert.NoFileExists(t, filepath.Join(rootfs, "dev/sda"))
	assert.NoFileExists(t, filepath.Join(rootfs, "dev/mem"))
	assertContent(t, "box\n", filepath.Join(rootfs, "etc/hostname"))
	var warnings []string
	for _, e := range log.AllEntries() {
		if e.Level == logrus.WarnLevel {
			warnings = append(warnings, e.Message)
		}
	}
	if assert.Len(t, warnings, 2) {
		assert.Contains(t, warnings[0], `"dev/sda": device node skipped`)
		assert.Contains(t, warnings[1], `"dev/mem": device node skipped`)
	}
}

func TestUnpackCreatesNamedPipes(t *testing.T) {
	rootfs, _ := sandbox(t)
	require.NoError(t, Unpack(archive(t, deviceEntry(tar.TypeFifo, "run/pipe", 0, 0)), rootfs))
	assertMode(t, fs.ModeNamedPipe|0o660, filepath.Join(rootfs, "run/pipe"))
}

func TestUnpackKeepsSpecialModeBits(t *testing.T) {
	rootfs, _ := sandbox(t)
	require.NoError(t, Unpack(archive(t,
		fileEntry("usr/bin/passwd", 0o4755, "binary"),
		fileEntry("usr/bin/wall", 0o2755, "binary"),
		dirEntry("tmp/", 0o1777),
		dirEntry("srv/shared/", 0o2775),
	), rootfs))
	assertMode(t, fs.ModeSetuid|0o755, filepath.Join(rootfs, "usr/bin/passwd"))
	assertMode(t, fs.ModeSetgid|0o755, filepath.Join(rootfs, "usr/bin/wall"))
	assertMode(t, fs.ModeDir|fs.ModeSticky|0o777, filepath.Join(rootfs, "tmp"))
	assertMode(t, fs.ModeDir|fs.ModeSetgid|0o775, filepath.Join(rootfs, "srv/shared"))
}

func TestUnpackKeepsExistingDirectoriesAndReplacesOtherFiles(t *testing.T) {
	rootfs, _ := sandbox(t)
	require.NoError(t, Unpack(archive(t,
		fileEntry("etc/hostname", 0o644, "box\n"),
		fileEntry("data", 0o644, "a file"),
		dirEntry("opt/app/", 0o755),
		fileEntry("opt/app/run", 0o755, "run"),
	), rootfs))
	require.NoError(t, Unpack(archive(t,
		dirEntry("etc/", 0o700),
		dirEntry("data/", 0o755),
		fileEntry("opt/app", 0o644, "now a file"),
	), rootfs))

	assertMode(t, fs.ModeDir|0o700, filepath.Join(rootfs, "etc"))
	assertContent(t, "box\n", filepath.Join(rootfs, "etc/hostname"))
	assertMode(t, fs.ModeDir|0o755, filepath.Join(rootfs, "data"))
	assertContent(t, "now a file", filepath.Join(rootfs, "opt/app"))
}

func TestUnpackLongNamesAndSkippedEntries(t *testing.T) {
	rootfs, _ := sandbox(t)
	long := strings.Repeat("directory/", 20) + strings.Repeat("f", 200)
	require.NoError(t, Unpack(archive(t,
		testEntry{hdr: tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "global", PAXRecords: map[string]string{"comment": "made by a test"}}},
		fileEntry(long, 0o644, "long"),
		symlinkEntry("longlink", long),
		testEntry{hdr: tar.Header{Typeflag: 'Z', Name: "unknown", Mode: 0o644}},
	), rootfs))
	assertContent(t, "long", filepath.Join(rootfs, long))
	target, err := os.Readlink(filepath.Join(rootfs, "longlink"))
	require.NoError(t, err)
	assert.Equal(t, long, target)
	assert.NoFileExists(t, filepath.Join(rootfs, "global"))
	assert.NoFileExists(t, filepath.Join(rootfs, "unknown"))
}

func TestUnpackRejectsAFileAsTheRoot(t *testing.T) {
	rootfs, _ := sandbox(t)
	err := Unpack(archive(t, fileEntry("/.", 0o644, "x")), rootfs)
	assert.ErrorContains(t, err, `image archive entry "/.": only a directory`)
}

// sparseArchive is what `tar --sparse` makes of a file of size bytes that
// is a hole but for its last bytes, tail: a GNU sparse entry (type 'S')
// whose map says where the data goes, and only the data stored. archive/tar
// reads this format but no longer writes it, so the test writes a plain
// entry holding tail and turns its header into a sparse one.
func sparseArchive(t *testing.T, name string, size int64, tail string) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(tail)), ModTime: mtime, Format: tar.FormatGNU}
	require.NoError(t, tw.WriteHeader(hdr))
	_, err := tw.Write([]byte(tail))
	require.NoError(t, err)
	require.NoError(t, tw.Close())
	block := buf.Bytes()[:512]
	block[156] = tar.TypeGNUSparse
	octal := func(field []byte, n int64) { copy(field, fmt.Sprintf("%0*o\x00", len(field)-1, n)) }
	octal(block[386:398], size-int64(len(tail))) // the first data fragment: its offset
	octal(block[398:410], int64(len(tail)))      // and its length
	octal(block[483:495], size)                  // the file's real size
	copy(block[148:156], "        ")             // the checksum counts its own field as spaces
	sum := 0
	for _, b := range block {
		sum += int(b)
	}
	copy(block[148:156], fmt.Sprintf("%06o\x00 ", sum))
	return &buf
}

// zerosArchive is a gzip-compressed archive of one file of size zero bytes:
// about a thousandth of that, compressed.
func zerosArchive(t *testing.T, name string, size int64) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	require.NoError(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: size, ModTime: mtime}))
	_, err := io.CopyN(tw, zeros{}, size)
	require.NoError(t, err)
	require.NoError(t, tw.Close())
	require.NoError(t, zw.Close())
	return &buf
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestUnpackSparseFile(t *testing.T) {
	rootfs, _ := sandbox(t)
	bomb := sparseArchive(t, "sparse", 1<<20, "end")
	assert.Less(t, bomb.Len(), 4096, "the archive holds only the data")
	require.NoError(t, Unpack(bomb, rootfs))
	data, err := os.ReadFile(filepath.Join(rootfs, "sparse"))
	require.NoError(t, err)
	require.Len(t, data, 1<<20)
	assert.Equal(t, make([]byte, 1<<20-3), data[:1<<20-3])
	assert.Equal(t, "end", string(data[1<<20-3:]))
}

// A tar bomb, a small archive that expands beyond the free space, is
// refused before any of its big file is written. The test pretends that
// the disk has 1 MiB free, so that a broken check writes 64 MiB, not the
// whole disk.
func TestUnpackRefusesAFileBiggerThanTheFreeSpace(t *testing.T) {
	statfs = func(path string, st *unix.Statfs_t) error {
		*st = unix.Statfs_t{Bsize: 4096, Bavail: 256, Bfree: 256}
		return nil
	}
	t.Cleanup(func() { statfs = unix.Statfs })
	for name, bomb := range map[string]*bytes.Buffer{
		"sparse": sparseArchive(t, "bomb", 64<<20, "end"),
		"gzip":   zerosArchive(t, "bomb", 64<<20),
	} {
		t.Run(name, func(t *testing.T) {
			rootfs, _ := sandbox(t)
			t.Logf("a %d-byte archive", bomb.Len())
			err := Unpack(bomb, rootfs)
			require.ErrorIs(t, err, unix.ENOSPC)
			assert.Contains(t, err.Error(), `image archive entry "bomb": no space left on device: the file is 64.0 MiB, and 1.0 MiB is free: `+
				"the image does not fit in the state root: free space there, or put the state root on a filesystem with room with --root")
			assert.NoFileExists(t, filepath.Join(rootfs, "bomb"))
		})
	}
}
