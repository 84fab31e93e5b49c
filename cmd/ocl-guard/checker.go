package main

import (
	"flag"
	"os"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/config"
)

func runChecker(args []string) error {
	fs := flag.NewFlagSet("checker", flag.ContinueOnError)
	kubeconfig := fs.String("kubeconfig", "", "path to a kubeconfig; in-cluster config or $KUBECONFIG when empty")
	settingsPath := fs.String("settings", "", "settings file (YAML, see config/settings.example.yaml); built-in defaults when empty")
	metricsAddr := fs.String("metrics-bind-address", ":8082", "address of the Prometheus metrics endpoint; 0 turns it off")
	probeAddr := fs.String("health-probe-bind-address", ":8083", "address of /healthz and /readyz; 0 turns it off")
	leaderNamespace := fs.String("leader-election-namespace", os.Getenv("POD_NAMESPACE"),
		"namespace of the Lease that elects the one writing replica; empty turns leader election off (run one replica only)")
	zapOpts := zap.Options{}
	zapOpts.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	settings, err := loadSettings(*settingsPath)
	if err != nil {
		return err
	}
	cfg, err := restConfig(*kubeconfig)
	if err != nil {
		return err
	}
	prober, err := app.NewProber(settings.Registry)
	if err != nil {
		return err
	}
	mgr, err := app.NewCheckerManager(cfg, app.CheckerOptions{
		Settings: settings, MetricsAddr: *metricsAddr, ProbeAddr: *probeAddr, LeaderElectionNamespace: *leaderNamespace,
		Prober: prober,
	})
	if err != nil {
		return err
	}
	ctrl.Log.WithName("checker").Info("diagnosing builds, pools and MachineOSConfigs", "leaderElectionNamespace", *leaderNamespace)
	return mgr.Start(ctrl.SetupSignalHandler())
}

func loadSettings(path string) (config.Settings, error) {
	if path == "" {
		return config.Defaults(), nil
	}
	return config.Load(path)
}
