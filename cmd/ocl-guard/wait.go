package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/config"
	"github.com/ocl-guard/ocl-guard/gather"
	"github.com/ocl-guard/ocl-guard/lookups"
	"github.com/ocl-guard/ocl-guard/status"
)

// runWait is `ocl-guard wait POOL [--for build|rollout] [--timeout D]`: it follows the pool through watches and
// returns 0 when the pool runs the image of its current build (--for rollout) or that build succeeded (--for
// build), 1 with the diagnosis as soon as the build fails or a node degrades, 2 on timeout, and 3 for usage errors
// and what keeps it from starting (status.Exit*). The stages' changes go to stdout, one timestamped line each.
func runWait(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("wait", flag.ContinueOnError)
	goalFlag := fs.String("for", string(status.GoalRollout), "what to wait for: build (the current build succeeded) or rollout (every node runs its image)")
	timeout := fs.Duration("timeout", 0, "give up after this long (exit 2), e.g. 45m; 0 waits until done or failed")
	cluster := bindClusterFlags(fs, "wait", "the checker's time limits")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: %s wait POOL [--for build|rollout] [--timeout D] [flags]\n"+
			"Exit status: 0 done, 1 failed (the diagnosis is printed), 2 timed out, 3 usage or cluster access error.\n", commandName)
		fs.PrintDefaults()
	}
	fs.SetOutput(stderr)
	positional, err := parseInterspersed(fs, args)
	if err != nil {
		return status.ExitUsage, err
	}
	if len(positional) != 1 {
		return status.ExitUsage, fmt.Errorf("give one pool (the MachineOSConfig's spec.machineConfigPool.name), not %q", positional)
	}
	goal, err := status.ParseGoal(*goalFlag)
	if err != nil {
		return status.ExitUsage, err
	}
	if *timeout < 0 {
		return status.ExitUsage, fmt.Errorf("--timeout %s: give a positive duration such as 45m, or 0 for none", *timeout)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	settings, source, given, err := cluster.settings.fromFile()
	if err != nil {
		return status.ExitUsage, err
	}
	cl, err := cluster.clients()
	if err != nil {
		return status.ExitUsage, err
	}
	if !given {
		settings, source = cluster.settings.installed(ctx, cl.direct)
	}
	opts := cl.watchOptions(settings, positional[0])
	// The registries are not probed: what wait decides on (the build, the nodes) does not depend on stage 1's probe.
	if _, err := fmt.Fprintf(stdout, "settings: %s; registries not probed\n", source); err != nil {
		return status.ExitUsage, err
	}
	if err := status.CheckAccess(ctx, cl.direct); err != nil {
		return status.ExitUsage, err
	}
	watcher, err := status.NewWatcher(cl.config, cl.direct.Scheme(), cl.direct)
	if err != nil {
		return status.ExitUsage, err
	}
	waitCtx := ctx
	if *timeout > 0 {
		var cancel context.CancelFunc
		waitCtx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	opts.OnError = func(err error) { fmt.Fprintf(stderr, "%s wait: will retry: %v\n", commandName, err) }
	verdict, report, err := status.Wait(waitCtx, watcher, opts, goal, stdout)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		fmt.Fprintf(stdout, "timed out after %s: %s\n", *timeout, orNothingYet(verdict.Why))
		return status.ExitTimeout, nil
	case ctx.Err() != nil:
		return status.ExitUsage, fmt.Errorf("interrupted: %s", orNothingYet(verdict.Why))
	case err != nil:
		return status.ExitUsage, err
	case verdict.Outcome == status.Failed:
		// The diagnosis as status prints it, with the rest of the pool's state.
		if err := status.WriteText(stdout, []status.Report{report}); err != nil {
			return status.ExitFailed, err
		}
		fmt.Fprintf(stdout, "failed: %s\n", verdict.Why)
		return status.ExitFailed, nil
	}
	fmt.Fprintf(stdout, "done: %s\n", verdict.Why)
	return status.ExitDone, nil
}

func orNothingYet(why string) string {
	if why == "" {
		return "the watch had not synced yet"
	}
	return "still " + why
}

// watchOptions are status.Options as runStatus builds them, without a registry prober.
func (cl clusterClients) watchOptions(settings config.Settings, pool string) status.WatchOptions {
	return status.WatchOptions{Options: status.Options{
		Pool: pool, Env: app.RuleEnv(settings, &lookups.Cluster{Cached: cl.direct, Direct: cl.direct}, nil), Checker: settings.Checker,
		Logs: gather.LogOptions{Logs: gather.PodLogReader{Client: cl.clientset}, Limit: settings.Checker.LogLimitBytes},
	}, Tick: time.Second}
}

// watchStatus is `status --watch`: the stages of every layered pool (or opts.Pool), redrawn in place on a terminal
// with a bar of the nodes updated, else one timestamped line per stage change, until interrupted (exit 0).
func watchStatus(cl clusterClients, opts status.Options, stdout, stderr io.Writer) (int, error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := status.CheckAccess(ctx, cl.direct); err != nil {
		return 2, err
	}
	watcher, err := status.NewWatcher(cl.config, cl.direct.Scheme(), cl.direct)
	if err != nil {
		return 2, err
	}
	draw := (&status.LineLog{W: stdout}).Write
	if app.IsTerminal(stdout) {
		draw = (&status.Screen{W: stdout, Width: func() int { return app.TerminalWidth(stdout) }}).Draw
	}
	var drawErr error
	err = watcher.Run(ctx, status.WatchOptions{Options: opts, Tick: time.Second,
		OnError: func(err error) { fmt.Fprintf(stderr, "%s status: will retry: %v\n", commandName, err) },
	}, func(pools []status.Snapshots) bool {
		reports := make([]status.Report, len(pools))
		for i, s := range pools {
			reports[i] = status.NewReport(s)
		}
		now := time.Now()
		if len(pools) > 0 {
			now = pools[0].Config.Now
		}
		drawErr = draw(reports, now)
		return drawErr != nil
	})
	switch {
	case drawErr != nil:
		return 2, drawErr
	case ctx.Err() != nil:
		return 0, nil // interrupted: the way a watch ends
	case err != nil:
		return 2, err
	}
	return 0, nil
}
