package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// kernelwork keeps its own copies of mydocker's lists (a bench tool that
// times the kernel, not mydocker's code): they must stay the same, or the
// floor measures other work than mydocker does.
func TestTheListsAreMydockers(t *testing.T) {
	const src = "../../../mydocker"
	var controllers []string
	for _, v := range []struct{ file, name string }{{"cgroups/shared.go", "managed"}, {"cgroups/devices_v1.go", "v1Managed"}} {
		controllers = append(controllers, stringsOf(t, filepath.Join(src, v.file), v.name)...)
	}
	assert.ElementsMatch(t, controllers, managed, "cgroups.v1Managed")
	assert.Equal(t, stringsOf(t, filepath.Join(src, "container/hardening.go"), "maskedPaths"), maskedPaths)
	assert.Equal(t, stringsOf(t, filepath.Join(src, "container/hardening.go"), "readOnlyPaths"), readOnlyPaths)
}

// stringsOf lists the string literals in the value of the package-level
// variable name in a Go file, in order.
func stringsOf(t *testing.T, file, name string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	require.NoError(t, err)
	var found []string
	seen := false
	ast.Inspect(f, func(n ast.Node) bool {
		spec, ok := n.(*ast.ValueSpec)
		if !ok || len(spec.Names) != 1 || spec.Names[0].Name != name || len(spec.Values) != 1 {
			return true
		}
		seen = true
		ast.Inspect(spec.Values[0], func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				s, err := strconv.Unquote(lit.Value)
				require.NoError(t, err)
				found = append(found, s)
			}
			return true
		})
		return false
	})
	require.True(t, seen, "no variable %s in %s", name, file)
	return found
}
