package checker

import (
	"os"
	"strings"
	"testing"

	"github.com/ocl-guard/ocl-guard/diagnose"
	"github.com/ocl-guard/ocl-guard/validators"
)

// Every reason and rule ID is documented in the README, so an admin who finds one on an object can look it up.
func TestReadmeDocumentsEveryReasonAndRule(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range append(diagnose.Reasons(), diagnose.ConfigReasons()...) {
		if !strings.Contains(string(readme), "| `"+string(r)+"` |") {
			t.Errorf("README.md has no table row for reason %s", r)
		}
	}
	for _, id := range validators.RuleIDs() {
		if !strings.Contains(string(readme), "| `"+string(id)+"` |") {
			t.Errorf("README.md has no table row for rule %s", id)
		}
	}
}
