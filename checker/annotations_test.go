package checker

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/ocl-guard/ocl-guard/diagnose"
	"github.com/ocl-guard/ocl-guard/validators"
)

func TestAnnotationChanges(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	earlier := "2026-11-25T10:00:00Z"
	pushAuth := diagnose.Diagnosis{Reason: diagnose.PushAuth, Severity: diagnose.SeverityError, Message: "m", Evidence: "e"}
	current := map[string]string{AnnotationDiagnosis: "PushAuth", AnnotationSeverity: "Error", AnnotationMessage: "m", AnnotationEvidence: "e",
		AnnotationSince: earlier, "other": "x"}
	ptr := func(s string) *string { return &s }

	for _, tc := range []struct {
		name    string
		current map[string]string
		d       diagnose.Diagnosis
		want    map[string]*string
	}{
		{"same diagnosis: nothing to write", current, pushAuth, map[string]*string{}},
		{"new message, same reason: since is kept", current,
			diagnose.Diagnosis{Reason: diagnose.PushAuth, Severity: diagnose.SeverityError, Message: "m2", Evidence: "e"},
			map[string]*string{AnnotationMessage: ptr("m2")}},
		{"new severity, same reason (a retried attempt that fails for good): since is kept", current,
			diagnose.Diagnosis{Reason: diagnose.PushAuth, Severity: diagnose.SeverityWarning, Message: "m", Evidence: "e"},
			map[string]*string{AnnotationSeverity: ptr("Warning")}},
		{"new reason: since restarts, evidence dropped", current,
			diagnose.Diagnosis{Reason: diagnose.RolloutPaused, Severity: diagnose.SeverityInfo, Message: "m"},
			map[string]*string{AnnotationDiagnosis: ptr("RolloutPaused"), AnnotationSeverity: ptr("Info"), AnnotationEvidence: nil,
				AnnotationSince: ptr(now.Format(time.RFC3339))}},
		{"healthy: only our annotations go, severity with the diagnosis", current, diagnose.Diagnosis{},
			map[string]*string{AnnotationDiagnosis: nil, AnnotationSeverity: nil, AnnotationMessage: nil, AnnotationEvidence: nil, AnnotationSince: nil}},
		{"healthy and nothing written: nothing to do", map[string]string{"other": "x"}, diagnose.Diagnosis{}, map[string]*string{}},
		{"first diagnosis", nil, pushAuth, map[string]*string{AnnotationDiagnosis: ptr("PushAuth"), AnnotationSeverity: ptr("Error"),
			AnnotationMessage: ptr("m"), AnnotationEvidence: ptr("e"), AnnotationSince: ptr(now.Format(time.RFC3339))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := AnnotationChanges(tc.current, tc.d, now)
			if len(got) != len(tc.want) {
				t.Fatalf("changes = %v, want %v", render(got), render(tc.want))
			}
			for k, v := range tc.want {
				g, ok := got[k]
				if !ok || (g == nil) != (v == nil) || (g != nil && *g != *v) {
					t.Errorf("changes = %v, want %v", render(got), render(tc.want))
				}
			}
		})
	}
}

func render(m map[string]*string) string {
	var b strings.Builder
	for k, v := range m {
		if v == nil {
			b.WriteString(k + "=<remove> ")
		} else {
			b.WriteString(k + "=" + *v + " ")
		}
	}
	return b.String()
}

// A replica that lost its lease without knowing yet (SIGSTOP, a partition) reconciles from a stale cache; its write
// must fail rather than repeat the new leader's, and it must record no Event.
func TestStaleWriterRecordsNoEvent(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := mcfgv1.Install(scheme); err != nil {
		t.Fatal(err)
	}
	build := &mcfgv1.MachineOSBuild{ObjectMeta: metav1.ObjectMeta{Name: "worker-1"}}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(build).Build()
	ctx := context.Background()
	var stale mcfgv1.MachineOSBuild
	if err := c.Get(ctx, client.ObjectKeyFromObject(build), &stale); err != nil {
		t.Fatal(err)
	}
	current := stale.DeepCopy()

	d := diagnose.Diagnosis{Reason: diagnose.PushAuth, Severity: diagnose.SeverityError, Message: "m"}
	now := time.Unix(0, 0)
	leader := &countingRecorder{}
	if wrote, err := (writer{client: c, recorder: leader}).apply(ctx, current, d, AnnotationChanges(nil, d, now)); err != nil || !wrote {
		t.Fatalf("the leader's write: wrote %v, err %v", wrote, err)
	}
	former := &countingRecorder{}
	wrote, err := (writer{client: c, recorder: former}).apply(ctx, &stale, d, AnnotationChanges(nil, d, now))
	if !apierrors.IsConflict(err) || wrote {
		t.Errorf("the stale write: wrote %v, err %v; want a Conflict", wrote, err)
	}
	if leader.n != 1 || former.n != 0 {
		t.Errorf("events: leader %d, former leader %d; want 1 and 0", leader.n, former.n)
	}
}

type countingRecorder struct{ n int }

func (r *countingRecorder) Eventf(runtime.Object, runtime.Object, string, string, string, string, ...any) {
	r.n++
}

// The pool's and the config's edits add their own annotation to the diagnosis's, and remove it when it no longer
// applies.
func TestKindAnnotationChanges(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	progress := diagnose.Progress{UpdatedMachineCount: 1, Since: now, Image: "0123456789ab"}
	for _, tc := range []struct {
		name string
		got  map[string]*string
		want map[string]string // "" = removed
	}{
		{"layered pool: its rollout memory is kept",
			PoolAnnotationChanges(nil, diagnose.Diagnosis{}, progress, true, now),
			map[string]string{AnnotationProgress: progress.Encode()}},
		{"pool no longer layered: the memory goes",
			PoolAnnotationChanges(map[string]string{AnnotationProgress: progress.Encode()}, diagnose.Diagnosis{}, progress, false, now),
			map[string]string{AnnotationProgress: ""}},
		{"config: failing rules with the diagnosis",
			ConfigAnnotationChanges(nil, diagnose.ConfigDiagnosis{
				Diagnosis: diagnose.Diagnosis{Reason: diagnose.ConfigCheckFailed, Severity: diagnose.SeverityError, Message: "m"},
				Rules:     []validators.RuleID{validators.RulePoolExists, validators.RuleSecretExists}}, now),
			map[string]string{AnnotationDiagnosis: "ConfigCheckFailed", AnnotationSeverity: "Error", AnnotationMessage: "m",
				AnnotationSince: now.Format(time.RFC3339), AnnotationRules: "pool-exists,secret-exists"}},
		{"config healthy again: rules and severity go with the diagnosis",
			ConfigAnnotationChanges(map[string]string{AnnotationDiagnosis: "ConfigCheckFailed", AnnotationSeverity: "Error",
				AnnotationRules: "secret-exists"}, diagnose.ConfigDiagnosis{}, now),
			map[string]string{AnnotationDiagnosis: "", AnnotationSeverity: "", AnnotationRules: ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]string{}
			for k, v := range tc.got {
				got[k] = ""
				if v != nil {
					got[k] = *v
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("changes (-want +got):\n%s", diff)
			}
		})
	}
}
