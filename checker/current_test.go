package checker

import (
	"context"
	"strings"
	"testing"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/ocl-guard/ocl-guard/diagnose"
)

// expectGauge compares c's series with want, given in the exposition format without HELP/TYPE lines.
func expectGauge(t *testing.T, c *currentDiagnoses, want ...string) {
	t.Helper()
	text := "# HELP " + MetricDiagnosedObjects + " " + diagnosedHelp + "\n" +
		"# TYPE " + MetricDiagnosedObjects + " gauge\n" + strings.Join(want, "\n") + "\n"
	if len(want) == 0 {
		text = ""
	}
	if err := testutil.CollectAndCompare(c, strings.NewReader(text), MetricDiagnosedObjects); err != nil {
		t.Error(err)
	}
}

func TestCurrentDiagnoses(t *testing.T) {
	c := &currentDiagnoses{byObject: map[objectKey][]reasonLevel{}}
	build := func(name string) *mcfgv1.MachineOSBuild {
		return &mcfgv1.MachineOSBuild{ObjectMeta: metav1.ObjectMeta{Name: name}}
	}
	pushAuth := diagnose.Diagnosis{Reason: diagnose.PushAuth, Severity: diagnose.SeverityError}

	c.record(build("a"), pushAuth)
	c.record(build("b"), pushAuth)
	c.record(build("c"), diagnose.Diagnosis{Reason: diagnose.BuildStuck, Severity: diagnose.SeverityWarning})
	c.record(&mcfgv1.MachineOSConfig{ObjectMeta: metav1.ObjectMeta{Name: "b"}},
		diagnose.Diagnosis{Reason: diagnose.ConfigCheckFailed, Severity: diagnose.SeverityError})
	expectGauge(t, c,
		`ocl_guard_checker_diagnosed_objects{kind="MachineOSBuild",level="Error",reason="PushAuth"} 2`,
		`ocl_guard_checker_diagnosed_objects{kind="MachineOSBuild",level="Warning",reason="BuildStuck"} 1`,
		`ocl_guard_checker_diagnosed_objects{kind="MachineOSConfig",level="Error",reason="ConfigCheckFailed"} 1`,
	)

	// A new diagnosis replaces the old one, healthy clears it, and a deleted object is forgotten.
	c.record(build("a"), diagnose.Diagnosis{Reason: diagnose.PushDenied, Severity: diagnose.SeverityError})
	c.record(build("c"), diagnose.Diagnosis{})
	c.forget(&mcfgv1.MachineOSConfig{}, types.NamespacedName{Name: "b"})
	expectGauge(t, c,
		`ocl_guard_checker_diagnosed_objects{kind="MachineOSBuild",level="Error",reason="PushAuth"} 1`,
		`ocl_guard_checker_diagnosed_objects{kind="MachineOSBuild",level="Error",reason="PushDenied"} 1`,
	)
	c.forget(&mcfgv1.MachineOSBuild{}, types.NamespacedName{Name: "a"})
	c.forget(&mcfgv1.MachineOSBuild{}, types.NamespacedName{Name: "b"})
	expectGauge(t, c)
}

// TestWriterKeepsGaugeCurrent: the writer records what it wrote, what was already there, and forgets an object
// that is gone when it patches.
func TestWriterKeepsGaugeCurrent(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := mcfgv1.Install(scheme); err != nil {
		t.Fatal(err)
	}
	existing := &mcfgv1.MachineOSBuild{ObjectMeta: metav1.ObjectMeta{Name: "gauge-writer-test"}}
	m := NewMetrics()
	w := writer{client: fake.NewClientBuilder().WithScheme(scheme).WithObjects(existing).Build(), metrics: m}
	diagnosed := m.diagnosed
	key := objectKey{kind: "MachineOSBuild", name: types.NamespacedName{Name: existing.Name}}
	held := func() []reasonLevel {
		diagnosed.mu.Lock()
		defer diagnosed.mu.Unlock()
		return diagnosed.byObject[key]
	}
	d := diagnose.Diagnosis{Reason: diagnose.PushAuth, Severity: diagnose.SeverityError, Message: "m"}
	ctx := context.Background()

	if _, err := w.apply(ctx, existing, d, AnnotationChanges(existing.Annotations, d, metav1.Now().Time)); err != nil {
		t.Fatal(err)
	}
	if got := held(); len(got) != 1 || got[0].reason != "PushAuth" {
		t.Fatalf("after writing PushAuth the gauge holds %v", got)
	}
	if _, err := w.apply(ctx, existing, diagnose.Diagnosis{}, map[string]*string{}); err != nil {
		t.Fatal(err)
	}
	if got := held(); got != nil {
		t.Fatalf("after an unchanged healthy verdict the gauge holds %v", got)
	}
	gone := &mcfgv1.MachineOSBuild{ObjectMeta: metav1.ObjectMeta{Name: "gauge-writer-gone"}}
	diagnosed.record(gone, d)
	if _, err := w.apply(ctx, gone, d, AnnotationChanges(nil, d, metav1.Now().Time)); err != nil {
		t.Fatal(err)
	}
	diagnosed.mu.Lock()
	_, kept := diagnosed.byObject[objectKey{kind: "MachineOSBuild", name: types.NamespacedName{Name: gone.Name}}]
	diagnosed.mu.Unlock()
	if kept {
		t.Error("an object that no longer exists is still counted")
	}
}

// The checker's metrics live in the registry its composition root registers them with, under their documented
// names, help and labels; another checker's metrics do not reach it, and cannot be registered with it too.
func TestMetricsAreCountedInTheirRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, other := NewMetrics(), NewMetrics()
	if err := reg.Register(m); err != nil {
		t.Fatal(err)
	}
	if err := reg.Register(other); err == nil {
		t.Error("a second checker's metrics were registered with the registry of the first")
	}
	build := &mcfgv1.MachineOSBuild{ObjectMeta: metav1.ObjectMeta{Name: "a"}}
	d := diagnose.Diagnosis{Reason: diagnose.PushAuth, Severity: diagnose.SeverityError}
	m.made(build, d)
	m.holds(build, d)
	other.made(build, d)
	other.holds(&mcfgv1.MachineOSBuild{ObjectMeta: metav1.ObjectMeta{Name: "b"}}, d)
	var none *Metrics // records nothing, and does not panic
	none.made(build, d)
	none.holds(build, d)
	none.gone(build, types.NamespacedName{Name: "a"})

	want := `# HELP ocl_guard_checker_diagnosed_objects Objects currently holding an ocl-guard diagnosis, by kind, reason (never a rule ID: those are in the ocl-guard.io/rules annotation) and level (Error, Warning, Info).
# TYPE ocl_guard_checker_diagnosed_objects gauge
ocl_guard_checker_diagnosed_objects{kind="MachineOSBuild",level="Error",reason="PushAuth"} 1
# HELP ocl_guard_checker_diagnoses_total Diagnoses written by the checker when an object's diagnosis changed, by kind and reason ("" when cleared).
# TYPE ocl_guard_checker_diagnoses_total counter
ocl_guard_checker_diagnoses_total{kind="MachineOSBuild",reason="PushAuth"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), MetricDiagnosedObjects, MetricDiagnosesMade); err != nil {
		t.Error(err)
	}
}
