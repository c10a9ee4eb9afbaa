//book:file namespaces

package main

import (
	"fmt"
	"runtime/debug"
)

// bookStage says which stage of the book this code is, such as "cgroups:
// the code at the end of chapter 3, Limits with cgroups". The final source
// under mydocker/ leaves it empty. In every stage, the stage generator
// writes stage.go beside this file, which sets it.
var bookStage string

// versionLine is what mydocker --version prints: the version, and the code
// the binary was built from.
func versionLine() string {
	from := "the book's final source (mydocker/ in the repository: the code of every chapter, written or planned)"
	if bookStage != "" {
		from = "the book's stage " + bookStage
	}
	return fmt.Sprintf("mydocker version %s, built from %s", version(), from)
}

// version is the module's version as the go command stamped it: a
// pseudo-version or a commit when it built from a git checkout, "devel"
// otherwise (a stage outside git, or -buildvcs=false).
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	revision, modified := "", ""
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "+dirty"
			}
		}
	}
	if revision == "" {
		return "devel"
	}
	return revision + modified
}
