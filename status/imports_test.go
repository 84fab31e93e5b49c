package status

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// status and the checker are peers: both gather through gather/ and judge with diagnose/ and validators/. status
// must not reach the checker's controllers, directly or through another package, or the two could drift apart
// again.
func TestStatusDoesNotImportTheChecker(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	for _, want := range []string{"github.com/ocl-guard/ocl-guard/gather", "github.com/ocl-guard/ocl-guard/diagnose"} {
		if !slices.Contains(deps, want) {
			t.Errorf("status does not use %s; the list of its dependencies is wrong:\n%s", want, out)
		}
	}
	if slices.Contains(deps, "github.com/ocl-guard/ocl-guard/checker") {
		t.Error("status depends on github.com/ocl-guard/ocl-guard/checker: gather through github.com/ocl-guard/ocl-guard/gather instead")
	}
}
