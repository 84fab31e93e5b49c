package checker

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ocl-guard/ocl-guard/diagnose"
)

// MetricDiagnosedObjects is the gauge of objects currently holding each diagnosis. The counter
// ocl_guard_checker_diagnoses_total says a diagnosis was made, not that it still holds; alerts need the latter.
const MetricDiagnosedObjects = "ocl_guard_checker_diagnosed_objects"

type objectKey struct {
	kind string
	name types.NamespacedName
}

type reasonLevel struct {
	reason string
	level  diagnose.Severity
}

// currentDiagnoses remembers the diagnosis each object holds, as last written or confirmed by this replica, and
// exports the gauge. Only the leader reconciles, so other replicas export nothing; a new leader fills it as its
// first reconciles run.
type currentDiagnoses struct {
	mu       sync.Mutex
	byObject map[objectKey][]reasonLevel
}

const diagnosedHelp = "Objects currently holding an ocl-guard diagnosis, by kind, reason (never a rule ID: those are in the ocl-guard.io/rules annotation) and level (Error, Warning, Info)."

var diagnosedDesc = prometheus.NewDesc(MetricDiagnosedObjects, diagnosedHelp, []string{"kind", "reason", "level"}, nil)

// record notes that obj now holds d (healthy: nothing).
func (c *currentDiagnoses) record(obj client.Object, d diagnose.Diagnosis) {
	key := objectKey{kind: kindOf(obj), name: client.ObjectKeyFromObject(obj)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if d.Healthy() {
		delete(c.byObject, key)
		return
	}
	held := []reasonLevel{{reason: string(d.Reason), level: d.Severity}}
	c.byObject[key] = held
}

// forget drops an object that is gone.
func (c *currentDiagnoses) forget(obj client.Object, name types.NamespacedName) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.byObject, objectKey{kind: kindOf(obj), name: name})
}

func (c *currentDiagnoses) Describe(ch chan<- *prometheus.Desc) { ch <- diagnosedDesc }

func (c *currentDiagnoses) Collect(ch chan<- prometheus.Metric) {
	type series struct {
		kind, reason string
		level        diagnose.Severity
	}
	counts := map[series]int{}
	c.mu.Lock()
	for key, held := range c.byObject {
		for _, h := range held {
			counts[series{key.kind, h.reason, h.level}]++
		}
	}
	c.mu.Unlock()
	for s, n := range counts {
		ch <- prometheus.MustNewConstMetric(diagnosedDesc, prometheus.GaugeValue, float64(n), s.kind, s.reason, string(s.level))
	}
}
