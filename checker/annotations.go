// Package checker holds ocl-guard's controllers: they gather snapshots of builds, pools and MachineOSConfigs, ask
// the pure rules in diagnose/ and validators/ what is wrong, and write the answer onto the object as annotations
// and an Event. They hold no rule logic.
package checker

import (
	"context"
	"encoding/json"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ocl-guard/ocl-guard/diagnose"
	"github.com/ocl-guard/ocl-guard/gather"
)

// The annotations the checker writes; all under one prefix, and only these.
const (
	AnnotationDiagnosis = "ocl-guard.io/diagnosis" // the reason code
	// AnnotationSeverity is the diagnosis's diagnose.Severity (Error, Warning, Info): what Argo CD's health scripts
	// judge by, never the reason.
	AnnotationSeverity = "ocl-guard.io/severity"
	AnnotationMessage  = "ocl-guard.io/message"  // one line naming the object and the fix
	AnnotationEvidence = "ocl-guard.io/evidence" // the log line or node reason it is based on
	AnnotationSince    = "ocl-guard.io/since"    // when this diagnosis was first made (RFC 3339)
	// AnnotationProgress is the pool's rollout memory, so that a restart of the checker does not reset the clock of
	// RolloutStalled and NodeRebootStuck.
	AnnotationProgress = gather.AnnotationProgress
	// AnnotationRules (MachineOSConfigs) lists the IDs of the admission rules that fail, comma-separated, whatever
	// the reason: "grep a reason, find its rule" holds for the reason, and the rule IDs stay out of metric labels.
	AnnotationRules = "ocl-guard.io/rules"
)

// AnnotationChanges returns the annotation edits (nil value = remove) that make current describe d: what the build
// controller patches, and the part of the pool's and the config's edits they share. Severity is written, changed
// and removed with the diagnosis. Since keeps its value while the reason stays the same, so re-diagnosing an
// unchanged failure writes nothing.
func AnnotationChanges(current map[string]string, d diagnose.Diagnosis, now time.Time) map[string]*string {
	changes := map[string]*string{}
	set := func(key, value string) { setAnnotation(changes, current, key, value) }
	if d.Healthy() {
		for _, key := range []string{AnnotationDiagnosis, AnnotationSeverity, AnnotationMessage, AnnotationEvidence, AnnotationSince} {
			set(key, "")
		}
		return changes
	}
	since := current[AnnotationSince]
	if current[AnnotationDiagnosis] != string(d.Reason) || since == "" {
		since = now.UTC().Format(time.RFC3339)
	}
	set(AnnotationDiagnosis, string(d.Reason))
	set(AnnotationSeverity, string(d.Severity))
	set(AnnotationMessage, d.Message)
	set(AnnotationEvidence, d.Evidence)
	set(AnnotationSince, since)
	return changes
}

// PoolAnnotationChanges is what the pool controller patches: AnnotationChanges, and the rollout memory of a layered
// pool (layered: it has a MachineOSConfig), removed from a pool that is not.
func PoolAnnotationChanges(current map[string]string, d diagnose.Diagnosis, progress diagnose.Progress, layered bool, now time.Time) map[string]*string {
	changes := AnnotationChanges(current, d, now)
	encoded := ""
	if layered {
		encoded = progress.Encode()
	}
	setAnnotation(changes, current, AnnotationProgress, encoded)
	return changes
}

// ConfigAnnotationChanges is what the MachineOSConfig controller patches: AnnotationChanges, and the failing rules.
func ConfigAnnotationChanges(current map[string]string, d diagnose.ConfigDiagnosis, now time.Time) map[string]*string {
	changes := AnnotationChanges(current, d.Diagnosis, now)
	setAnnotation(changes, current, AnnotationRules, joinRules(d.Rules))
	return changes
}

// setAnnotation records in changes the edit that makes current[key] hold value ("" removes it).
func setAnnotation(changes map[string]*string, current map[string]string, key, value string) {
	if value == "" {
		if _, ok := current[key]; ok {
			changes[key] = nil
		}
		return
	}
	if v, ok := current[key]; !ok || v != value {
		changes[key] = &value
	}
}

// eventSource names the checker in the Events it records.
const eventSource = "ocl-guard-checker"

// Clients are what each reconciler reads and writes through: the API server (reads from the manager's cache,
// annotation writes by merge patch), the Event recorder and the diagnosis metrics.
type Clients struct {
	Client client.Client
	// Recorder records Events; SetupWithManager provides one.
	Recorder events.EventRecorder
	// Metrics receives the diagnoses written; nil records none.
	Metrics *Metrics
}

func (c *Clients) writer() writer {
	return writer{client: c.Client, recorder: c.Recorder, metrics: c.Metrics}
}

// recordThrough gives the reconciler the manager's Event recorder unless it was given one.
func (c *Clients) recordThrough(mgr ctrl.Manager) {
	if c.Recorder == nil {
		c.Recorder = mgr.GetEventRecorder(eventSource)
	}
}

// writer applies annotation edits with a merge patch and reports diagnosis changes as Events and metrics.
type writer struct {
	client   client.Client
	recorder events.EventRecorder
	metrics  *Metrics
}

// apply patches obj's annotations when anything changed; it returns whether it wrote. When the reason changed it
// also records an Event on obj: the reason, of type Warning for an Error or Warning diagnosis and Normal for Info
// (d.Severity, the one written into the annotation and the gauge), or Normal "Recovered" when it is gone.
func (w writer) apply(ctx context.Context, obj client.Object, d diagnose.Diagnosis, changes map[string]*string) (bool, error) {
	if len(changes) == 0 {
		w.metrics.holds(obj, d)
		return false, nil
	}
	previous := obj.GetAnnotations()[AnnotationDiagnosis]
	// The resourceVersion makes the patch conditional: it fails with a Conflict when the object changed since it was
	// read. A replica that lost its lease without knowing yet (paused, partitioned) reads from a stale cache, so its
	// write conflicts with the new leader's, and no second Event is recorded for the same transition.
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"annotations": changes, "resourceVersion": obj.GetResourceVersion(),
	}})
	if err != nil {
		return false, err
	}
	if err := w.client.Patch(ctx, obj, client.RawPatch(types.MergePatchType, patch)); err != nil {
		if apierrors.IsNotFound(err) {
			w.metrics.gone(obj, client.ObjectKeyFromObject(obj))
		}
		return false, client.IgnoreNotFound(err) // a Conflict is retried from the cache's newer copy
	}
	w.metrics.holds(obj, d)
	if previous != string(d.Reason) {
		w.metrics.made(obj, d)
	}
	if w.recorder != nil && previous != string(d.Reason) {
		if d.Healthy() {
			w.recorder.Eventf(obj, nil, corev1.EventTypeNormal, "Recovered", "Diagnose", "ocl-guard: %s is resolved", previous)
		} else {
			w.recorder.Eventf(obj, nil, eventType(d.Severity), string(d.Reason), "Diagnose", "%s", d.Message)
		}
	}
	return true, nil
}

func eventType(s diagnose.Severity) string {
	if s == diagnose.SeverityInfo {
		return corev1.EventTypeNormal
	}
	return corev1.EventTypeWarning
}

func kindOf(obj client.Object) string {
	switch obj.(type) {
	case *mcfgv1.MachineOSBuild:
		return "MachineOSBuild"
	case *mcfgv1.MachineConfigPool:
		return "MachineConfigPool"
	case *mcfgv1.MachineOSConfig:
		return "MachineOSConfig"
	}
	return "unknown"
}

// readReconciled reads the object a request names into obj. found is false when it is gone, which the gauge then
// forgets; a read error other than NotFound is returned for a retry.
func readReconciled(ctx context.Context, c client.Reader, m *Metrics, req reconcile.Request, obj client.Object) (found bool, err error) {
	if err := c.Get(ctx, req.NamespacedName, obj); err != nil {
		if apierrors.IsNotFound(err) {
			m.gone(obj, req.NamespacedName)
		}
		return false, client.IgnoreNotFound(err)
	}
	return true, nil
}
