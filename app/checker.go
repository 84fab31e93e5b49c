package app

import (
	"cmp"
	"fmt"
	"time"

	configv1 "github.com/openshift/api/config/v1"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	"github.com/prometheus/client_golang/prometheus"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlconfig "sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/ocl-guard/ocl-guard/checker"
	"github.com/ocl-guard/ocl-guard/config"
	"github.com/ocl-guard/ocl-guard/gather"
	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/validators"
)

// CheckerOptions are the knobs of the checker process.
type CheckerOptions struct {
	Settings    config.Settings
	MetricsAddr string
	ProbeAddr   string
	// MetricsInsecure and MetricsCertDir: see MetricsServing.
	MetricsInsecure bool
	MetricsCertDir  string
	// LeaderElectionNamespace holds the Lease that makes one replica the only writer; empty turns election off.
	LeaderElectionNamespace string
	// LeaderElectionID names the Lease; LeaderElectionID (the constant) when empty.
	LeaderElectionID string
	// Logs reads build logs; nil reads them through the pods/log subresource.
	Logs gather.LogReader
	// Prober probes registries for the audit; nil leaves registry rules "not probed".
	Prober validators.Prober
	// Actions overrides Settings.ActionFor.
	Actions validators.ActionFor
	// Now overrides the clock.
	Now func() time.Time
	// WrapClient wraps the client the controllers write with, e.g. to count writes in tests.
	WrapClient func(client.Client) client.Client
	// Registry receives the checker's metrics (checker.Metrics): controller-runtime's metrics.Registry, which the
	// manager serves on MetricsAddr, in the binary; a registry of its own in a test that runs several checkers.
	Registry prometheus.Registerer
	// SeveralPerProcess allows more than one checker in one process (tests of leader election). controller-runtime
	// refuses a second controller of the same name in a process, because its own controller metrics (reconcile
	// counts, work queues) are registered process-wide, labelled by controller name.
	SeveralPerProcess bool
}

// LeaderElectionID names the Lease the checker replicas compete for.
const LeaderElectionID = "ocl-guard-checker"

var nodeGVK = schema.GroupVersionKind{Version: "v1", Kind: "Node"}

// CheckerCacheOptions watches only what the checker reads: Jobs, Pods and Secrets in the MCO's namespace, the
// metadata of Nodes (their annotations are all it reads, and a full Node is large), the Events about OCL objects,
// and by name the MCO's ClusterOperator and its machine-os-builder Deployment (the RBAC grants only those names).
func CheckerCacheOptions() cache.Options {
	inMCONamespace := map[string]cache.Config{mco.Namespace: {}}
	byName := func(name string) fields.Selector { return fields.OneTermEqualSelector("metadata.name", name) }
	node := &metav1.PartialObjectMetadata{}
	node.SetGroupVersionKind(nodeGVK)
	opts := cache.Options{
		DefaultTransform: cache.TransformStripManagedFields(),
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}: {Namespaces: SecretNamespaces()},
			&batchv1.Job{}:   {Namespaces: inMCONamespace},
			&corev1.Pod{}:    {Namespaces: inMCONamespace},
			node:             {},
			// The MCO's Events about MachineOSBuilds and MachineOSConfigs: core/v1 Events of cluster-scoped objects
			// live in namespace default; the field selector keeps every other Event out of the cache.
			&corev1.Event{}: {
				Namespaces: map[string]cache.Config{mco.EventNamespace: {}},
				Field:      fields.OneTermEqualSelector("involvedObject.apiVersion", mcfgv1.GroupVersion.String()),
			},
			&configv1.ClusterOperator{}: {Field: byName(mco.OperatorName)},
			&appsv1.Deployment{}: {Namespaces: map[string]cache.Config{
				mco.Namespace: {FieldSelector: byName(mco.BuilderDeployment)},
			}},
		},
	}
	return opts
}

// NewCheckerManager returns a manager running the build, pool and audit controllers. With leader election on,
// only the elected replica runs them, so two replicas never both write.
func NewCheckerManager(cfg *rest.Config, opts CheckerOptions) (manager.Manager, error) {
	cfg = WholeWarnings(cfg) // its writes on MachineOSConfigs may be answered with wrapped admission warnings
	scheme, err := Scheme()
	if err != nil {
		return nil, err
	}
	metrics := checker.NewMetrics()
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                        scheme,
		Cache:                         CheckerCacheOptions(),
		Metrics:                       MetricsServing{Addr: opts.MetricsAddr, Insecure: opts.MetricsInsecure, CertDir: opts.MetricsCertDir}.serverOptions(),
		HealthProbeBindAddress:        opts.ProbeAddr,
		LeaderElection:                opts.LeaderElectionNamespace != "",
		LeaderElectionNamespace:       opts.LeaderElectionNamespace,
		LeaderElectionID:              cmp.Or(opts.LeaderElectionID, LeaderElectionID),
		LeaderElectionReleaseOnCancel: true,
		Controller:                    ctrlconfig.Controller{SkipNameValidation: &opts.SeveralPerProcess},
	})
	if err != nil {
		return nil, fmt.Errorf("creating manager: %w", err)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	writeClient := mgr.GetClient()
	if opts.WrapClient != nil {
		writeClient = opts.WrapClient(writeClient)
	}
	logs := opts.Logs
	if logs == nil {
		clientset, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			return nil, err
		}
		logs = gather.PodLogReader{Client: clientset}
	}
	env, facts, err := managerRuleEnv(mgr, opts.Settings, opts.Prober, opts.Actions)
	if err != nil {
		return nil, err
	}
	env.Now = now
	c := opts.Settings.Checker
	var report checker.AuditSink
	if c.PolicyReport != config.PolicyReportOff {
		report = &checker.PolicyReportWriter{Client: writeClient, Now: now}
	}
	clients := checker.Clients{Client: writeClient, Metrics: metrics}
	controllers := []interface{ SetupWithManager(ctrl.Manager) error }{
		&checker.BuildReconciler{
			Clients: clients, Logs: logs, LogLimit: c.LogLimitBytes, Recheck: c.Recheck.Duration, Now: now,
			Limits: c.BuildLimits(),
		},
		&checker.PoolReconciler{Clients: clients, Recheck: c.Recheck.Duration, Now: now, Limits: c.RolloutLimits()},
		&checker.ConfigReconciler{
			Clients: clients, Env: env, Resync: c.AuditResync.Duration, Now: now, Report: report,
			Limits: c.ConfigLimits(),
		},
	}
	for _, ctl := range controllers {
		if err := ctl.SetupWithManager(mgr); err != nil {
			return nil, err
		}
	}

	return finish(mgr, opts.Registry, metrics, []cache.Cache{mgr.GetCache(), facts}, nil)
}
