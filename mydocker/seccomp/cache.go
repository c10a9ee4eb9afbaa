//book:file security

package seccomp

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	profiles "github.com/moby/profiles/seccomp"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/mydocker-book/mydocker/mydocker/atomicfile"
)

// Cache keeps compiled filters in a directory of the state root, so that
// a filter is compiled once, not for every container. A filter depends on
// the profile, the container's capabilities, the architecture, the
// kernel's version and the compiler that made it: an entry's name is a
// hash of all of them, and the mydocker binary stands for the compiler
// (a new build of mydocker compiles again). Anything wrong with the cache
// (a full disk, a damaged entry) only costs a compilation.
type Cache struct {
	Dir string
}

// Filter is the filter for a container with capabilities caps, encoded
// for the init (Encode): from Docker's default profile when profileFile
// is "", else from that file in Docker's format. A profile with no
// default action and no rules gives no filter (""), as in Docker.
func (c Cache) Filter(profileFile string, caps []string) (string, error) {
	var data []byte // the profile file's bytes; nil for Docker's default
	if profileFile != "" {
		var err error
		if data, err = os.ReadFile(profileFile); err != nil {
			return "", fmt.Errorf("reading the seccomp profile: %w", err)
		}
	}
	kernel, err := kernelVersion()
	if err != nil {
		return "", err
	}
	compiler, key, err := cacheKey(data, caps, kernel)
	if err != nil {
		logrus.Debugf("seccomp: no cache (%v)", err)
		return compileProfile(data, profileFile, caps, kernel)
	}
	entry := filepath.Join(c.Dir, compiler+"-"+key)
	if cached, err := os.ReadFile(entry); err == nil && len(cached)%sockFilterSize == 0 {
		logrus.Debugf("seccomp: filter from the cache, %s", entry)
		return string(cached), nil
	}
	filter, err := compileProfile(data, profileFile, caps, kernel)
	if err != nil {
		return "", err
	}
	if err := c.store(compiler, entry, filter); err != nil {
		logrus.Debugf("seccomp: the filter is not cached: %v", err)
	}
	return filter, nil
}

// compileProfile compiles Docker's default profile (data nil) or the
// profile file's bytes.
func compileProfile(data []byte, file string, caps []string, kernel profiles.KernelVersion) (string, error) {
	p := Default()
	if data != nil {
		var err error
		if p, err = parse(data, file); err != nil {
			return "", err
		}
	}
	if p.DefaultAction == "" && len(p.Syscalls) == 0 {
		return "", nil
	}
	prog, err := Compile(p, caps, runtime.GOARCH, kernel)
	if err != nil {
		return "", err
	}
	logrus.Debugf("seccomp: compiled the filter, %d instructions", len(prog))
	return Encode(prog), nil
}

// cacheKey names a filter by hashes: compiler, of the mydocker binary
// that runs (its device, inode, size and times of change, which any new
// build or reinstall changes), and key, of the profile, the
// capabilities, the architecture and the kernel.
func cacheKey(profile []byte, caps []string, kernel profiles.KernelVersion) (compiler, key string, err error) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/exe", &st); err != nil {
		return "", "", fmt.Errorf("the mydocker binary: %w", err)
	}
	h := sha256.Sum256(fmt.Appendf(nil, "%d %d %d %d.%d %d.%d",
		st.Dev, st.Ino, st.Size, st.Mtim.Sec, st.Mtim.Nsec, st.Ctim.Sec, st.Ctim.Nsec))
	compiler = hex.EncodeToString(h[:8])

	sorted := slices.Sorted(slices.Values(caps))
	in := sha256.New()
	fmt.Fprintf(in, "%s %d.%d %s\n", runtime.GOARCH, kernel.Kernel, kernel.Major, strings.Join(sorted, ","))
	if profile == nil {
		fmt.Fprint(in, "docker-default\n")
	} else {
		fmt.Fprintf(in, "file %d\n", len(profile))
		in.Write(profile)
	}
	return compiler, hex.EncodeToString(in.Sum(nil)[:16]), nil
}

// store writes the entry atomically (a whole file or none, even when
// containers start side by side), and removes the entries of other
// mydocker binaries, which no binary will ask for again, and the
// temporary files of a mydocker killed while writing one.
func (c Cache) store(compiler, entry, filter string) error {
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return err
	}
	if err := atomicfile.Write(entry, []byte(filter), false); err != nil {
		return err
	}
	entries, _ := os.ReadDir(c.Dir)
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), compiler+"-") && !writtenJustNow(e) {
			os.Remove(filepath.Join(c.Dir, e.Name()))
		}
	}
	return nil
}

// writtenJustNow is a temporary file (atomicfile's, a dot file) that
// another mydocker may still be writing.
func writtenJustNow(e fs.DirEntry) bool {
	info, err := e.Info()
	return err == nil && strings.HasPrefix(e.Name(), ".") && time.Since(info.ModTime()) < time.Minute
}
