package registry

import (
	"errors"
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

// newMetrics creates the collectors and registers them with reg if it is not nil. Collectors already registered
// by another Prober on the same registry are shared, so a restart of the prober in-process does not fail.
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
	var err error
	m.probes, err = register(reg, m.probes)
	if err != nil {
		return nil, err
	}
	m.duration, err = register(reg, m.duration)
	if err != nil {
		return nil, err
	}
	m.cacheHits, err = register(reg, m.cacheHits)
	if err != nil {
		return nil, err
	}
	return m, nil
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var already prometheus.AlreadyRegisteredError
	if errors.As(err, &already) {
		if existing, ok := already.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, fmt.Errorf("registering registry probe metrics: %w", err)
}

func (m *metrics) observe(r Result, seconds float64) {
	m.probes.WithLabelValues(string(r.Reachable), string(r.Push)).Inc()
	m.duration.WithLabelValues(string(r.Reachable), string(r.Push)).Observe(seconds)
}
