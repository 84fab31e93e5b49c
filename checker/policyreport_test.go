package checker

import (
	"encoding/json"
	"testing"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/ocl-guard/ocl-guard/validators"
)

func TestReportResults(t *testing.T) {
	config := &mcfgv1.MachineOSConfig{ObjectMeta: metav1.ObjectMeta{Name: "worker", UID: "u1"}}
	v := validators.Verdict{Results: []validators.RuleResult{
		{Rule: validators.RulePoolExists, Action: validators.ActionDeny},
		{Rule: validators.RuleSecretExists, Action: validators.ActionDeny, Findings: validators.Findings{
			Errs: field.ErrorList{field.NotFound(field.NewPath("spec", "renderedImagePushSecret", "name"), "push")}}},
		{Rule: validators.RuleBuildNameLength, Action: validators.ActionWarn, Findings: validators.Findings{
			Errs: field.ErrorList{field.TooLong(field.NewPath("spec", "machineConfigPool", "name"), "x", 24)}}},
		{Rule: validators.RulePushSpecSyntax, Action: validators.ActionDeny, Findings: validators.Findings{Warnings: []string{"tag is replaced"}}},
	}}
	got := map[string]string{}
	for _, r := range reportResults(config, v, time.Unix(100, 0)) {
		m := r.(map[string]any)
		got[m["rule"].(string)] = m["result"].(string) + "/" + stringOr(m["severity"])
	}
	want := map[string]string{"pool-exists": "pass/", "secret-exists": "fail/high", "build-name-length": "warn/medium", "pushspec-syntax": "warn/medium"}
	if !equality.Semantic.DeepEqual(got, want) {
		t.Errorf("results %v, want %v", got, want)
	}
}

func stringOr(v any) string { s, _ := v.(string); return s }

// An audit with the same outcome leaves the report as it is, once it has been through the API server's JSON.
func TestMergeResultsIsStable(t *testing.T) {
	config := &mcfgv1.MachineOSConfig{ObjectMeta: metav1.ObjectMeta{Name: "worker", UID: "u1"}}
	other := &mcfgv1.MachineOSConfig{ObjectMeta: metav1.ObjectMeta{Name: "infra", UID: "u2"}}
	v := validators.Verdict{Results: []validators.RuleResult{
		{Rule: validators.RulePoolExists, Action: validators.ActionDeny},
		{Rule: validators.RuleSecretExists, Action: validators.ActionDeny, Findings: validators.Findings{
			Errs: field.ErrorList{field.NotFound(field.NewPath("spec", "renderedImagePushSecret", "name"), "push")}}},
	}}
	report := &unstructured.Unstructured{Object: map[string]any{}}
	setResults(report, mergeResults(nil, "worker", reportResults(config, v, time.Unix(100, 0)))) // as created
	setResults(report, mergeResults(report.Object["results"].([]any), "infra", reportResults(other, v, time.Unix(100, 0))))
	stored := roundTrip(t, report)

	old, _, _ := unstructured.NestedSlice(stored.Object, "results")
	again := mergeResults(old, "worker", reportResults(config, v, time.Unix(200, 0)))
	if !equality.Semantic.DeepEqual(old, again) {
		t.Errorf("same outcome, different results:\n%v\n%v", old, again)
	}
	v.Results[1].Findings = validators.Findings{}
	changed := mergeResults(old, "worker", reportResults(config, v, time.Unix(200, 0)))
	if equality.Semantic.DeepEqual(old, changed) || len(changed) != 4 {
		t.Errorf("a changed outcome must change the results: %v", changed)
	}
	if gone := mergeResults(old, "worker", nil); len(gone) != 2 || resultConfig(gone[0].(map[string]any)) != "infra" {
		t.Errorf("forgetting worker left %v", gone)
	}
}

func roundTrip(t *testing.T, u *unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	u.SetGroupVersionKind(ClusterPolicyReportGVK)
	data, err := json.Marshal(u.Object)
	if err != nil {
		t.Fatal(err)
	}
	out := &unstructured.Unstructured{}
	if err := out.UnmarshalJSON(data); err != nil {
		t.Fatal(err)
	}
	return out
}
