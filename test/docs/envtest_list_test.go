package docs

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// startsControlPlane are the imports that make a package's tests start kube-apiserver and etcd.
var startsControlPlane = []string{"github.com/ocl-guard/ocl-guard/test/testbed", "sigs.k8s.io/controller-runtime/pkg/envtest"}

// TestEnvtestPackagesAreListed: `make test` runs the tests of every package outside ENVTEST_PACKAGES while the
// control plane is still being built, so a package whose tests start one must be in the list (on a warm machine it
// would pass unlisted, and fail on CI's cold one).
func TestEnvtestPackagesAreListed(t *testing.T) {
	text, err := os.ReadFile(filepath.Join(repoRoot, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^ENVTEST_PACKAGES\s*:?=(.*)$`).FindStringSubmatch(string(text))
	if m == nil {
		t.Fatal("the Makefile has no ENVTEST_PACKAGES := line")
	}
	listed := map[string]bool{}
	for _, p := range strings.Fields(m[1]) {
		listed[filepath.Clean(p)] = true
		if _, err := os.Stat(filepath.Join(repoRoot, p)); err != nil {
			t.Errorf("ENVTEST_PACKAGES names %s: %v", p, err)
		}
	}
	found := 0
	err = filepath.WalkDir(repoRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != repoRoot && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "bin") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			for _, cp := range startsControlPlane {
				if p != cp {
					continue
				}
				found++
				dir, _ := filepath.Rel(repoRoot, filepath.Dir(path))
				if !listed[dir] {
					t.Errorf("%s imports %s but ./%s is not in the Makefile's ENVTEST_PACKAGES: make test would run it before the control plane is built", path, p, dir)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found == 0 {
		t.Fatal("no test imports test/testbed or envtest: is the walk still looking at the repository?")
	}
}
