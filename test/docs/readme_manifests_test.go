package docs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Manifests the README shows in full are the files the tests use: a reader who copies the README's copy gets
// what was tested.
func TestREADMEShowsTheTestedManifests(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{"config/wait/rbac.yaml"} {
		data, err := os.ReadFile(filepath.Join(repoRoot, file))
		if err != nil {
			t.Fatal(err)
		}
		// The file without its leading comment, which says where it is shown and tested.
		var body []string
		for _, line := range strings.SplitAfter(string(data), "\n") {
			if len(body) == 0 && strings.HasPrefix(line, "#") {
				continue
			}
			body = append(body, line)
		}
		if !strings.Contains(string(readme), "```yaml\n"+strings.Join(body, "")+"```\n") {
			t.Errorf("README.md does not show %s as it is: copy the file (without its comment) into its yaml block", file)
		}
	}
}
