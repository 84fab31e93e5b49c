package checker

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ocl-guard/ocl-guard/validators"
)

// ClusterPolicyReportGVK is the report the checker writes: the wgpolicyk8s.io format that Kyverno writes and Policy
// Reporter (UI, metrics, notifications) and Kyverno's tooling read (kubernetes-sigs/wg-policy-prototypes,
// policy-report/crd/v1alpha2).
var ClusterPolicyReportGVK = schema.GroupVersionKind{Group: "wgpolicyk8s.io", Version: "v1alpha2", Kind: "ClusterPolicyReport"}

// PolicyReportName names ocl-guard's one ClusterPolicyReport; PolicyName is the policy of each of its results,
// whose rule is the rule ID.
const (
	PolicyReportName = "ocl-guard"
	PolicyName       = "ocl-guard"
)

// maxReportMessage bounds one result's message; the report holds every config's results in one object.
const maxReportMessage = 1024

// AuditSink receives every audit of a MachineOSConfig, and its deletion.
type AuditSink interface {
	Record(ctx context.Context, config *mcfgv1.MachineOSConfig, v validators.Verdict) error
	Forget(ctx context.Context, name string) error
}

// PolicyReportWriter keeps the ClusterPolicyReport "ocl-guard" in step with the audit: one result per
// MachineOSConfig and rule that ran. It writes only when a result changes, and does nothing while the CRD is not
// installed (asked of the API server's discovery on each audit, so installing Kyverno later is picked up).
type PolicyReportWriter struct {
	Client client.Client
	Now    func() time.Time
	mu     sync.Mutex // one read-modify-write of the report at a time
}

var _ AuditSink = (*PolicyReportWriter)(nil)

func (w *PolicyReportWriter) Record(ctx context.Context, config *mcfgv1.MachineOSConfig, v validators.Verdict) error {
	return w.update(ctx, config.Name, reportResults(config, v, w.Now()))
}

func (w *PolicyReportWriter) Forget(ctx context.Context, name string) error {
	return w.update(ctx, name, nil)
}

func (w *PolicyReportWriter) update(ctx context.Context, config string, results []any) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	report := &unstructured.Unstructured{}
	report.SetGroupVersionKind(ClusterPolicyReportGVK)
	err := w.Client.Get(ctx, client.ObjectKey{Name: PolicyReportName}, report)
	switch {
	case meta.IsNoMatchError(err):
		return nil // no wgpolicyk8s.io on this cluster
	case apierrors.IsNotFound(err):
		if len(results) == 0 {
			return nil
		}
		report.SetName(PolicyReportName)
		report.SetLabels(map[string]string{"app.kubernetes.io/managed-by": "ocl-guard"})
		setResults(report, mergeResults(nil, config, results))
		return w.Client.Create(ctx, report)
	case err != nil:
		return fmt.Errorf("reading ClusterPolicyReport %s: %w", PolicyReportName, err)
	}
	old, _, _ := unstructured.NestedSlice(report.Object, "results")
	merged := mergeResults(old, config, results)
	if equality.Semantic.DeepEqual(old, merged) {
		return nil
	}
	setResults(report, merged)
	return w.Client.Update(ctx, report)
}

func setResults(report *unstructured.Unstructured, results []any) {
	summary := map[string]any{"pass": int64(0), "fail": int64(0), "warn": int64(0), "error": int64(0), "skip": int64(0)}
	for _, r := range results {
		outcome := r.(map[string]any)["result"].(string)
		summary[outcome] = summary[outcome].(int64) + 1
	}
	report.Object["results"] = results
	report.Object["summary"] = summary
}

// reportResults turns one audit into results: fail for a deny rule's errors, warn for a warn rule's errors or any
// rule's warnings, pass otherwise. Rules that are off did not run and have no result.
func reportResults(config *mcfgv1.MachineOSConfig, v validators.Verdict, now time.Time) []any {
	summaries := map[validators.RuleID]string{}
	for _, rule := range validators.Stage1Rules() {
		summaries[rule.ID] = rule.Summary
	}
	var out []any
	for _, r := range v.Results {
		outcome, severity := "pass", ""
		var lines []string
		for _, err := range r.Findings.Errs {
			lines = append(lines, err.Error())
		}
		switch {
		case len(r.Findings.Errs) > 0 && r.Action == validators.ActionDeny:
			outcome, severity = "fail", "high"
		case len(r.Findings.Errs) > 0 || len(r.Findings.Warnings) > 0:
			outcome, severity = "warn", "medium"
		}
		lines = append(lines, r.Findings.Warnings...)
		message := strings.Join(lines, "; ")
		if outcome == "pass" {
			message = summaries[r.Rule]
		}
		if len(message) > maxReportMessage {
			message = message[:maxReportMessage-3] + "..."
		}
		result := map[string]any{
			"policy": PolicyName, "rule": string(r.Rule), "result": outcome, "message": message,
			"source": PolicyName, "category": "On-Cluster Layering",
			"timestamp": map[string]any{"seconds": now.Unix(), "nanos": int64(0)},
			"resources": []any{map[string]any{
				"apiVersion": mcfgv1.GroupVersion.String(), "kind": "MachineOSConfig", "name": config.Name, "uid": string(config.UID),
			}},
		}
		if severity != "" {
			result["severity"] = severity
		}
		out = append(out, result)
	}
	return out
}

// mergeResults replaces one config's results in the report's, keeping the timestamp of a result that did not change
// so that an audit with the same outcome writes nothing. The results stay sorted by config, then rule.
func mergeResults(old []any, config string, fresh []any) []any {
	previous := map[string]map[string]any{}
	var merged []any
	for _, r := range old {
		m, ok := r.(map[string]any)
		if !ok {
			continue
		}
		if resultConfig(m) == config {
			previous[fmt.Sprint(m["rule"])] = m
			continue
		}
		merged = append(merged, m)
	}
	for _, r := range fresh {
		m := r.(map[string]any)
		if p, ok := previous[m["rule"].(string)]; ok && sameOutcome(p, m) {
			m["timestamp"] = p["timestamp"]
		}
		merged = append(merged, m)
	}
	slices.SortStableFunc(merged, func(a, b any) int {
		ma, mb := a.(map[string]any), b.(map[string]any)
		return cmp.Or(cmp.Compare(resultConfig(ma), resultConfig(mb)), cmp.Compare(fmt.Sprint(ma["rule"]), fmt.Sprint(mb["rule"])))
	})
	return merged
}

func sameOutcome(a, b map[string]any) bool {
	for _, key := range []string{"result", "message", "severity", "resources"} {
		if !equality.Semantic.DeepEqual(a[key], b[key]) {
			return false
		}
	}
	return true
}

// resultConfig is the name of the MachineOSConfig a result is about.
func resultConfig(result map[string]any) string {
	resources, _ := result["resources"].([]any)
	if len(resources) == 0 {
		return ""
	}
	ref, _ := resources[0].(map[string]any)
	name, _ := ref["name"].(string)
	return name
}
