package status

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ocl-guard/ocl-guard/config"
	"github.com/ocl-guard/ocl-guard/gather"
	"github.com/ocl-guard/ocl-guard/validators"
)

// Options configure Collect.
type Options struct {
	// Pool limits the reports to one pool; empty means every layered pool.
	Pool string
	// Env runs the admission rules (stage 1): app.RuleEnv, as the checker's.
	Env validators.Env
	// Logs reads build logs when a diagnosis needs one.
	Logs    gather.LogOptions
	Checker config.CheckerSettings
	Now     time.Time
}

// NotLayeredError says that a pool asked for has no MachineOSConfig.
type NotLayeredError struct{ Pool string }

func (e NotLayeredError) Error() string {
	return fmt.Sprintf("pool %s is not layered: no MachineOSConfig has spec.machineConfigPool.name %s (oc get machineosconfigs)", e.Pool, e.Pool)
}

// Collect reads a live snapshot of every layered pool (or opts.Pool) through c, with the gatherers the checker uses,
// and reports on it. It reads the checker's rollout memory (the pool's ocl-guard.io/progress annotation) when the
// checker has written one; its other clocks start now, so a one-shot run reports a spec change the MCO ignores only
// for a new MachineOSConfig (whose creation time is known).
func Collect(ctx context.Context, c client.Reader, opts Options) ([]Report, error) {
	snapshots, err := CollectSnapshots(ctx, c, opts)
	if err != nil {
		return nil, err
	}
	var reports []Report
	for _, s := range snapshots {
		reports = append(reports, NewReport(s))
	}
	return reports, nil
}

// CollectSnapshots is Collect without the judging: the snapshots NewReport and Decide read, one per pool.
func CollectSnapshots(ctx context.Context, c client.Reader, opts Options) ([]Snapshots, error) {
	var configs mcfgv1.MachineOSConfigList
	if err := c.List(ctx, &configs); err != nil {
		return nil, fmt.Errorf("listing MachineOSConfigs: %w", err)
	}
	slices.SortFunc(configs.Items, func(a, b mcfgv1.MachineOSConfig) int {
		return cmp.Compare(a.Spec.MachineConfigPool.Name, b.Spec.MachineConfigPool.Name)
	})
	var out []Snapshots
	for i := range configs.Items {
		mosc := &configs.Items[i]
		if opts.Pool != "" && mosc.Spec.MachineConfigPool.Name != opts.Pool {
			continue
		}
		s, err := collect(ctx, c, mosc, opts)
		if err != nil {
			return nil, fmt.Errorf("MachineOSConfig %s: %w", mosc.Name, err)
		}
		out = append(out, s)
	}
	if opts.Pool != "" && len(out) == 0 {
		return nil, NotLayeredError{Pool: opts.Pool}
	}
	return out, nil
}

func collect(ctx context.Context, c client.Reader, mosc *mcfgv1.MachineOSConfig, opts Options) (Snapshots, error) {
	var s Snapshots
	var err error
	if s.Config, err = gather.GatherConfig(ctx, c, opts.Env, mosc); err != nil {
		return s, err
	}
	s.Config.Now, s.Config.Limits = opts.Now, opts.Checker.ConfigLimits()
	if pool := s.Config.Pool; pool != nil {
		if s.Pool, err = gather.GatherPool(ctx, c, pool); err != nil {
			return s, err
		}
		s.Pool.Now, s.Pool.Limits = opts.Now, opts.Checker.RolloutLimits()
	}
	// The current build is the config's (mco.CurrentBuildName), the one the pool's rollout is judged on too.
	if current := s.Config.CurrentBuild; current != nil {
		b, err := gather.GatherBuild(ctx, c, current, opts.Logs, opts.Now, opts.Checker.BuildLimits())
		if err != nil {
			return s, err
		}
		s.Build = &b
	}
	return s, nil
}
