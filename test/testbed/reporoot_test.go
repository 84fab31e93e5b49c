package testbed

import (
	"os"
	"path/filepath"
	"testing"
)

// RepoRoot finds the repository whether or not the build kept source paths (the Makefile builds with -trimpath).
func TestRepoRootHoldsGoMod(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(RepoRoot(), "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !declaresModule(string(data), modulePath) {
		t.Errorf("%s/go.mod does not declare %s", RepoRoot(), modulePath)
	}
}

func TestDeclaresModule(t *testing.T) {
	for _, tc := range []struct {
		gomod string
		want  bool
	}{
		{"module github.com/ocl-guard/ocl-guard\n\ngo 1.26\n", true},
		{"// comment\nmodule \"github.com/ocl-guard/ocl-guard\"\n", true},
		{"module github.com/ocl-guard/ocl-guard/test/tools\n", false},
		{"require github.com/ocl-guard/ocl-guard v1.0.0\n", false},
	} {
		if got := declaresModule(tc.gomod, modulePath); got != tc.want {
			t.Errorf("declaresModule(%q) = %v, want %v", tc.gomod, got, tc.want)
		}
	}
}
