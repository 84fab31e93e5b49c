package app

import (
	"fmt"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
)

// Client-side rate limiting is off by default: API Priority and Fairness limits clients on the server, and
// client-go's own default (5 QPS, burst 10) queued admissions past the webhook's timeout under a few dozen
// concurrent requests, which under failurePolicy Ignore admits broken configs silently.
const (
	DefaultKubeAPIQPS   float32 = -1
	DefaultKubeAPIBurst int     = 100
)

// RESTConfig is the one way every subcommand reaches the API server: kubeconfig when given, else in-cluster or
// $KUBECONFIG, and the same client-side limits either way. qps < 0 turns client-side rate limiting off.
func RESTConfig(kubeconfig string, qps float32, burst int) (*rest.Config, error) {
	var cfg *rest.Config
	var err error
	if kubeconfig == "" {
		cfg, err = ctrl.GetConfig()
	} else {
		cfg, err = clientcmd.BuildConfigFromFlags("", kubeconfig)
	}
	if err != nil {
		if kubeconfig != "" {
			return nil, fmt.Errorf("loading --kubeconfig %s: %w", kubeconfig, err)
		}
		return nil, fmt.Errorf("finding the cluster (in-cluster config or $KUBECONFIG): %w", err)
	}
	if qps == 0 {
		return nil, fmt.Errorf("--kube-api-qps 0 would block every request; use a positive limit, or -1 for none")
	}
	if qps > 0 && burst < 1 {
		return nil, fmt.Errorf("--kube-api-burst must be at least 1 when --kube-api-qps is set (got %d)", burst)
	}
	cfg.QPS, cfg.Burst = qps, burst
	cfg.RateLimiter = nil // a limiter from the kubeconfig loader would override QPS and Burst
	return cfg, nil
}
