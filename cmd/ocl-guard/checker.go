package main

import (
	"flag"
	"os"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/ocl-guard/ocl-guard/app"
)

func runChecker(args []string) error {
	fs := flag.NewFlagSet("checker", flag.ContinueOnError)
	process := bindProcessFlags(fs, "8444", "8083")
	leaderNamespace := fs.String("leader-election-namespace", os.Getenv("POD_NAMESPACE"),
		"namespace of the Lease that elects the one writing replica; empty turns leader election off (run one replica only)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	p, err := process.start()
	if err != nil {
		return err
	}
	mgr, err := app.NewCheckerManager(p.cfg, app.CheckerOptions{
		Settings: p.settings, MetricsAddr: *process.metricsAddr, ProbeAddr: *process.probeAddr,
		MetricsInsecure: *process.metricsInsecure, MetricsCertDir: *process.metricsCertDir,
		LeaderElectionNamespace: *leaderNamespace, Prober: p.prober, Registry: p.metrics,
	})
	if err != nil {
		return err
	}
	ctrl.Log.WithName("checker").Info("diagnosing builds, pools and MachineOSConfigs", "leaderElectionNamespace", *leaderNamespace)
	return mgr.Start(ctrl.SetupSignalHandler())
}
