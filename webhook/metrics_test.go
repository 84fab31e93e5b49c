package webhook

import (
	"encoding/json"
	"testing"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	"github.com/prometheus/client_golang/prometheus"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// The webhook counts each rule's findings, by the action taken, in the registry its composition root gives it, and
// nowhere else: two webhooks in one process count apart.
func TestRuleFindingsAreCountedInTheGivenRegistry(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := mcfgv1.Install(scheme); err != nil {
		t.Fatal(err)
	}
	counted, idle := prometheus.NewRegistry(), prometheus.NewRegistry()
	m := NewMetrics()
	if err := counted.Register(m); err != nil {
		t.Fatal(err)
	}
	if err := idle.Register(NewMetrics()); err != nil {
		t.Fatal(err)
	}
	wh := &admission.Webhook{Handler: NewValidator(scheme, emptyClusterEnv(), m)}

	// emptyCluster has neither the push secret nor the pool.
	mosc := mcfgv1.MachineOSConfig{TypeMeta: metav1.TypeMeta{APIVersion: mcfgv1.GroupVersion.String(), Kind: "MachineOSConfig"}}
	mosc.Name, mosc.Spec.MachineConfigPool.Name = "worker", "worker"
	mosc.Spec.RenderedImagePushSecret.Name, mosc.Spec.RenderedImagePushSpec = "push", "quay.io/acme/os:latest"
	raw, err := json.Marshal(mosc)
	if err != nil {
		t.Fatal(err)
	}
	if got := post(t, wh, review(moscKind, admissionv1.Create, raw, nil)); got.Response == nil || got.Response.Allowed {
		t.Fatalf("CREATE: response = %+v, want a denial", got.Response)
	}
	created := findingsByAction(t, counted)
	if created["deny"] == 0 || len(created) != 1 {
		t.Fatalf("after a denied CREATE the findings are %v, want deny only", created)
	}
	if got := post(t, wh, review(moscKind, admissionv1.Update, raw, raw)); got.Response == nil || !got.Response.Allowed {
		t.Fatalf("UPDATE of the metadata only: response = %+v, want it allowed", got.Response)
	}
	updated := findingsByAction(t, counted)
	if updated["deny"] != created["deny"] || updated["warn-unchanged"] == 0 {
		t.Errorf("after an UPDATE that leaves the spec alone the findings are %v, want %v plus warn-unchanged", updated, created)
	}
	if other := findingsByAction(t, idle); len(other) != 0 {
		t.Errorf("another webhook's registry counted %v", other)
	}
}

// findingsByAction sums ocl_guard_admission_rule_findings_total in reg by its action label.
func findingsByAction(t *testing.T, reg prometheus.Gatherer) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]float64{}
	for _, f := range families {
		if f.GetName() != MetricRuleFindings {
			continue
		}
		for _, metric := range f.GetMetric() {
			for _, l := range metric.GetLabel() {
				if l.GetName() == "action" {
					sums[l.GetValue()] += metric.GetCounter().GetValue()
				}
			}
		}
	}
	return sums
}
