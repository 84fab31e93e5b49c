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
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ocl-guard/ocl-guard/findings"
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

// ClusterPolicyReport is the part of wgpolicyk8s.io/v1alpha2 ClusterPolicyReport the checker writes, typed after
// the CRD vendored in test/crds/wgpolicyk8s.io (kubernetes-sigs/wg-policy-prototypes
// policy-report/api/v1alpha2/policyreport_types.go); no Go module of those types resolves here.
type ClusterPolicyReport struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Summary           PolicyReportSummary  `json:"summary"`
	Results           []PolicyReportResult `json:"results,omitempty"`
}

// PolicyReportSummary counts the results by outcome.
type PolicyReportSummary struct {
	Pass  int `json:"pass"`
	Fail  int `json:"fail"`
	Warn  int `json:"warn"`
	Error int `json:"error"`
	Skip  int `json:"skip"`
}

// PolicyReportResult is one rule's result on one MachineOSConfig.
type PolicyReportResult struct {
	Policy    string                   `json:"policy"`
	Rule      string                   `json:"rule,omitempty"`
	Result    string                   `json:"result"`
	Severity  string                   `json:"severity,omitempty"`
	Message   string                   `json:"message,omitempty"`
	Source    string                   `json:"source,omitempty"`
	Category  string                   `json:"category,omitempty"`
	Timestamp metav1.Timestamp         `json:"timestamp"`
	Resources []corev1.ObjectReference `json:"resources,omitempty"`
}

// AuditSink receives every audit of a MachineOSConfig, and its deletion.
type AuditSink interface {
	Record(ctx context.Context, config *mcfgv1.MachineOSConfig, found findings.List) error
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

func (w *PolicyReportWriter) Record(ctx context.Context, config *mcfgv1.MachineOSConfig, found findings.List) error {
	return w.update(ctx, config.Name, ReportResults(config, found, w.Now()))
}

func (w *PolicyReportWriter) Forget(ctx context.Context, name string) error {
	return w.update(ctx, name, nil)
}

func (w *PolicyReportWriter) update(ctx context.Context, config string, results []PolicyReportResult) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	stored := &unstructured.Unstructured{}
	stored.SetGroupVersionKind(ClusterPolicyReportGVK)
	err := w.Client.Get(ctx, client.ObjectKey{Name: PolicyReportName}, stored)
	switch {
	case meta.IsNoMatchError(err):
		return nil // no wgpolicyk8s.io on this cluster
	case apierrors.IsNotFound(err):
		if len(results) == 0 {
			return nil
		}
		report := &ClusterPolicyReport{ObjectMeta: metav1.ObjectMeta{Name: PolicyReportName,
			Labels: map[string]string{"app.kubernetes.io/managed-by": "ocl-guard"}}}
		report.setResults(mergeResults(nil, config, results))
		u, err := report.unstructured()
		if err != nil {
			return err
		}
		return w.Client.Create(ctx, u)
	case err != nil:
		return fmt.Errorf("reading ClusterPolicyReport %s: %w", PolicyReportName, err)
	}
	var report ClusterPolicyReport
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(stored.Object, &report); err != nil {
		return fmt.Errorf("reading ClusterPolicyReport %s: %w", PolicyReportName, err)
	}
	merged := mergeResults(report.Results, config, results)
	if equality.Semantic.DeepEqual(report.Results, merged) {
		return nil
	}
	report.setResults(merged)
	u, err := report.unstructured()
	if err != nil {
		return err
	}
	return w.Client.Update(ctx, u)
}

func (r *ClusterPolicyReport) setResults(results []PolicyReportResult) {
	r.Results = results
	r.Summary = PolicyReportSummary{}
	for _, res := range results {
		switch res.Result {
		case "pass":
			r.Summary.Pass++
		case "fail":
			r.Summary.Fail++
		case "warn":
			r.Summary.Warn++
		case "skip":
			r.Summary.Skip++
		default:
			r.Summary.Error++
		}
	}
}

func (r *ClusterPolicyReport) unstructured() (*unstructured.Unstructured, error) {
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(r)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: obj}
	u.SetGroupVersionKind(ClusterPolicyReportGVK)
	return u, nil
}

// reportOutcome renders an outcome as a wgpolicyk8s.io result and severity: a rule that fails a config is high, a
// warning medium, what is only worth knowing info.
func reportOutcome(o findings.Outcome) (result, severity string) {
	switch o {
	case findings.Fail:
		return "fail", "high"
	case findings.Warn:
		return "warn", "medium"
	case findings.Info:
		return "pass", "info"
	case findings.Skip:
		return "skip", ""
	}
	return "pass", ""
}

// ReportResults renders one audit's findings: one result per rule that ran, with the worst outcome of its findings
// and their messages. Evidence stays out: it may differ between two audits of the same facts, and the report is
// written only when a result changes.
func ReportResults(config *mcfgv1.MachineOSConfig, found findings.List, now time.Time) []PolicyReportResult {
	var out []PolicyReportResult
	for _, rule := range found.Rules() {
		of := found.Of(rule)
		result, severity := reportOutcome(of.Worst())
		var lines []string
		for _, f := range of {
			lines = append(lines, f.Body())
		}
		message := strings.Join(lines, "; ")
		if len(message) > maxReportMessage {
			message = message[:maxReportMessage-3] + "..."
		}
		out = append(out, PolicyReportResult{
			Policy: PolicyName, Rule: string(rule), Result: result, Severity: severity, Message: message,
			Source: PolicyName, Category: "On-Cluster Layering",
			Timestamp: metav1.Timestamp{Seconds: now.Unix()},
			Resources: []corev1.ObjectReference{{
				APIVersion: mcfgv1.GroupVersion.String(), Kind: "MachineOSConfig", Name: config.Name, UID: config.UID,
			}},
		})
	}
	return out
}

// mergeResults replaces one config's results in the report's, keeping the timestamp of a result that did not change
// so that an audit with the same outcome writes nothing. The results stay sorted by config, then rule.
func mergeResults(old []PolicyReportResult, config string, fresh []PolicyReportResult) []PolicyReportResult {
	previous := map[string]PolicyReportResult{}
	var merged []PolicyReportResult
	for _, r := range old {
		if resultConfig(r) == config {
			previous[r.Rule] = r
			continue
		}
		merged = append(merged, r)
	}
	for _, r := range fresh {
		if p, ok := previous[r.Rule]; ok && sameOutcome(p, r) {
			r.Timestamp = p.Timestamp
		}
		merged = append(merged, r)
	}
	slices.SortStableFunc(merged, func(a, b PolicyReportResult) int {
		return cmp.Or(cmp.Compare(resultConfig(a), resultConfig(b)), cmp.Compare(a.Rule, b.Rule))
	})
	return merged
}

func sameOutcome(a, b PolicyReportResult) bool {
	a.Timestamp, b.Timestamp = metav1.Timestamp{}, metav1.Timestamp{}
	return equality.Semantic.DeepEqual(a, b)
}

// resultConfig is the name of the MachineOSConfig a result is about.
func resultConfig(r PolicyReportResult) string {
	if len(r.Resources) == 0 {
		return ""
	}
	return r.Resources[0].Name
}
