package checker

import (
	"encoding/json"
	"testing"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/ocl-guard/ocl-guard/findings"
	"github.com/ocl-guard/ocl-guard/validators"
)

func auditOf(outcomes map[findings.RuleID]findings.Outcome) findings.List {
	var l findings.List
	for _, rule := range []findings.RuleID{validators.RulePoolExists, validators.RuleSecretExists, validators.RuleBuildNameLength,
		validators.RulePushSpecSyntax, validators.RulePushSpecReachable} {
		switch o := outcomes[rule]; o {
		case findings.Fail, findings.Warn:
			l = append(l, findings.FromError(rule, o, field.NotFound(field.NewPath("spec", "renderedImagePushSecret", "name"), "push")))
		case "":
		default:
			l = append(l, findings.Finding{Rule: rule, Message: string(o) + " of " + string(rule), Outcome: o})
		}
	}
	return l
}

func TestReportResults(t *testing.T) {
	config := &mcfgv1.MachineOSConfig{ObjectMeta: metav1.ObjectMeta{Name: "worker", UID: "u1"}}
	found := auditOf(map[findings.RuleID]findings.Outcome{
		validators.RulePoolExists: findings.Pass, validators.RuleSecretExists: findings.Fail,
		validators.RuleBuildNameLength: findings.Warn, validators.RulePushSpecReachable: findings.Skip,
	})
	found = append(found, findings.Finding{Rule: validators.RulePushSpecSyntax, Message: "tag is replaced", Outcome: findings.Warn})
	got := map[string]string{}
	for _, r := range ReportResults(config, found, time.Unix(100, 0)) {
		got[r.Rule] = r.Result + "/" + r.Severity
		if r.Resources[0].Name != "worker" || r.Resources[0].UID != "u1" {
			t.Errorf("result about %v", r.Resources)
		}
	}
	want := map[string]string{"pool-exists": "pass/", "secret-exists": "fail/high", "build-name-length": "warn/medium",
		"pushspec-syntax": "warn/medium", "pushspec-reachable": "skip/"}
	if !equality.Semantic.DeepEqual(got, want) {
		t.Errorf("results %v, want %v", got, want)
	}
}

// Evidence may differ between two audits of the same facts (a registry's wording, how many days are left): it
// never reaches the report, so the report is not rewritten for it.
func TestReportResultsLeaveEvidenceOut(t *testing.T) {
	config := &mcfgv1.MachineOSConfig{ObjectMeta: metav1.ObjectMeta{Name: "worker"}}
	a := auditOf(map[findings.RuleID]findings.Outcome{validators.RuleSecretExists: findings.Fail})
	b := auditOf(map[findings.RuleID]findings.Outcome{validators.RuleSecretExists: findings.Fail})
	a[0].Evidence, b[0].Evidence = "in 13 days", "in 12 days"
	if ra, rb := ReportResults(config, a, time.Unix(1, 0)), ReportResults(config, b, time.Unix(2, 0)); !sameOutcome(ra[0], rb[0]) {
		t.Errorf("evidence changed the result: %+v vs %+v", ra[0], rb[0])
	}
}

// An audit with the same outcome leaves the report as it is, once it has been through the API server's JSON.
func TestMergeResultsIsStable(t *testing.T) {
	config := &mcfgv1.MachineOSConfig{ObjectMeta: metav1.ObjectMeta{Name: "worker", UID: "u1"}}
	other := &mcfgv1.MachineOSConfig{ObjectMeta: metav1.ObjectMeta{Name: "infra", UID: "u2"}}
	audit := auditOf(map[findings.RuleID]findings.Outcome{validators.RulePoolExists: findings.Pass, validators.RuleSecretExists: findings.Fail})
	report := &ClusterPolicyReport{}
	report.setResults(mergeResults(nil, "worker", ReportResults(config, audit, time.Unix(100, 0)))) // as created
	report.setResults(mergeResults(report.Results, "infra", ReportResults(other, audit, time.Unix(100, 0))))
	stored := roundTrip(t, report)

	again := mergeResults(stored.Results, "worker", ReportResults(config, audit, time.Unix(200, 0)))
	if !equality.Semantic.DeepEqual(stored.Results, again) {
		t.Errorf("same outcome, different results:\n%v\n%v", stored.Results, again)
	}
	fixed := auditOf(map[findings.RuleID]findings.Outcome{validators.RulePoolExists: findings.Pass, validators.RuleSecretExists: findings.Pass})
	changed := mergeResults(stored.Results, "worker", ReportResults(config, fixed, time.Unix(200, 0)))
	if equality.Semantic.DeepEqual(stored.Results, changed) || len(changed) != 4 {
		t.Errorf("a changed outcome must change the results: %v", changed)
	}
	if gone := mergeResults(stored.Results, "worker", nil); len(gone) != 2 || resultConfig(gone[0]) != "infra" {
		t.Errorf("forgetting worker left %v", gone)
	}
	if report.Summary != (PolicyReportSummary{Pass: 2, Fail: 2}) {
		t.Errorf("summary = %+v", report.Summary)
	}
}

func roundTrip(t *testing.T, r *ClusterPolicyReport) *ClusterPolicyReport {
	t.Helper()
	u, err := r.unstructured()
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(u.Object)
	if err != nil {
		t.Fatal(err)
	}
	var out ClusterPolicyReport
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}
