package registry

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metric names, exported so dashboards and tests need not repeat the strings.
const (
	MetricProbes        = "ocl_guard_registry_probes_total"
	MetricProbeDuration = "ocl_guard_registry_probe_duration_seconds"
	MetricCacheHits     = "ocl_guard_registry_probe_cache_hits_total"
)

type metrics struct {
	probes    *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	cacheHits prometheus.Counter
}

// newMetrics creates the collectors and registers them with reg if it is not nil. Each Prober has its own: the
// composition root builds one Prober per process and gives it the registry that process serves, so a second
// Prober on the same registry is a wiring mistake, reported as an error.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	labels := []string{"reachable", "push"}
	m := &metrics{
		probes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricProbes,
			Help: "Registry probes run (cache hits excluded), by reachability and push verdict.",
		}, labels),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    MetricProbeDuration,
			Help:    "Time taken by registry probes (cache hits excluded), by reachability and push verdict.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2, 3, 5, 10},
		}, labels),
		cacheHits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: MetricCacheHits,
			Help: "Registry probe results served from the cache.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	if err := reg.Register(m); err != nil {
		return nil, fmt.Errorf("registering registry probe metrics: %w", err)
	}
	return m, nil
}

// Describe implements prometheus.Collector, so that one Register call registers every probe metric.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	m.probes.Describe(ch)
	m.duration.Describe(ch)
	m.cacheHits.Describe(ch)
}

// Collect implements prometheus.Collector.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	m.probes.Collect(ch)
	m.duration.Collect(ch)
	m.cacheHits.Collect(ch)
}

func (m *metrics) observe(r Result, seconds float64) {
	m.probes.WithLabelValues(string(r.Reachable), string(r.Push)).Inc()
	m.duration.WithLabelValues(string(r.Reachable), string(r.Push)).Observe(seconds)
}
