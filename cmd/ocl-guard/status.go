package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/gather"
	"github.com/ocl-guard/ocl-guard/lookups"
	"github.com/ocl-guard/ocl-guard/status"
	"github.com/ocl-guard/ocl-guard/validators"
)

// runStatus is `ocl-guard status [POOL]`: the three stages of every layered pool, live. It returns the exit code:
// 0 when every pool is healthy, 1 when one has a problem, 2 for usage errors. It judges with the settings the
// installed checker runs with (status.ClusterSettings) unless given --settings, and says which in one line: first
// in text output, on stderr with -o json.
func runStatus(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	cluster := bindClusterFlags(fs, "status", "rules' actions, registry probe, the checker's time limits")
	output := fs.String("o", "text", "output format: text or json")
	from := fs.String("from", "", "report from a must-gather or oc adm inspect directory instead of the live cluster (offline: no API server, no registry)")
	probe := fs.Bool("probe-registry", true, "probe the push registry (reachability and push rights) for stage 1")
	watch := fs.Bool("watch", false, "follow the pools: redraw in place on a terminal, else print a timestamped line per stage change; Ctrl-C stops")
	var caBundles stringList
	bindCABundleFlag(fs, &caBundles)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: %s status [POOL] [--from DIR] [flags]\n", commandName)
		fs.PrintDefaults()
	}
	positional, err := parseInterspersed(fs, args)
	if err != nil {
		return 2, err
	}
	if len(positional) > 1 {
		return 2, fmt.Errorf("give at most one pool, not %q", positional)
	}
	if *output != "text" && *output != "json" {
		return 2, fmt.Errorf("-o %q: use text or json", *output)
	}
	if *watch && *output != "text" {
		return 2, fmt.Errorf("--watch prints text; -o %s is for one look", *output)
	}
	if *from != "" {
		if *watch {
			return 2, fmt.Errorf("--watch follows a live cluster; --from %s reads a dump once", *from)
		}
		return statusFrom(*from, positional, cluster.settings, *output, caBundles, stdout, stderr)
	}
	settings, source, given, err := cluster.settings.fromFile()
	if err != nil {
		return 2, err
	}
	cl, err := cluster.clients()
	if err != nil {
		return 2, err
	}
	c := cl.direct
	ctx := context.Background()
	if !given {
		settings, source = cluster.settings.installed(ctx, c)
	}
	settings.Registry.CABundles = append(settings.Registry.CABundles, caBundles...)
	var prober validators.Prober
	if *probe {
		p, err := app.NewProber(settings.Registry, nil)
		if err != nil {
			return 2, err
		}
		prober = p
	} else {
		source += "; registries not probed (--probe-registry=false)"
	}
	opts := status.Options{
		Env: app.RuleEnv(settings, &lookups.Cluster{Cached: c, Direct: c}, prober), Checker: settings.Checker, Now: time.Now(),
		Logs: gather.LogOptions{Logs: gather.PodLogReader{Client: cl.clientset}, Limit: settings.Checker.LogLimitBytes},
	}
	if len(positional) == 1 {
		opts.Pool = positional[0]
	}
	if *watch {
		if _, err := fmt.Fprintf(stdout, "settings: %s\n", source); err != nil {
			return 2, err
		}
		return watchStatus(cl, opts, stdout, stderr)
	}
	reports, err := status.Collect(ctx, c, opts)
	if err != nil {
		return 2, err // among them: the pool given is not layered
	}
	settingsOut := stdout
	if *output == "json" {
		settingsOut = stderr
	}
	if _, err := fmt.Fprintf(settingsOut, "settings: %s\n", source); err != nil {
		return 2, err
	}
	if err := writeStatus(stdout, *output, reports); err != nil {
		return 2, err
	}
	return status.ExitCode(reports), nil
}

func writeStatus(w io.Writer, output string, reports []status.Report) error {
	switch {
	case output == "json":
		return status.WriteJSON(w, reports)
	case len(reports) == 0:
		_, err := fmt.Fprintln(w, "no layered pool: no MachineOSConfig in the cluster")
		return err
	}
	return status.WriteText(w, reports)
}

// parseInterspersed parses flags that may come before and after positional arguments ("status worker -o json").
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}
