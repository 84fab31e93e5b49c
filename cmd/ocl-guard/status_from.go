package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/gather"
	"github.com/ocl-guard/ocl-guard/lookups"
	"github.com/ocl-guard/ocl-guard/mustgather"
	"github.com/ocl-guard/ocl-guard/status"
)

// statusFrom is `ocl-guard status --from DIR`: the live report, from a must-gather or oc adm inspect directory. The
// dump stands in for the API server (mustgather.Dump is a client.Reader and a gather.LogReader), so the gatherers,
// rules and rendering are live status's. Files it cannot read are printed on stderr, one line each, and the report
// goes on without them; the exit codes are live status's.
func statusFrom(dir string, positional []string, settingsFlags settingsFlags, output string, caBundles []string, stdout, stderr io.Writer) (int, error) {
	settings, source, given, err := settingsFlags.fromFile()
	if err != nil {
		return 2, err
	}
	scheme, err := app.Scheme()
	if err != nil {
		return 2, err
	}
	dump, err := mustgather.Load(dir, scheme, mustgather.Options{Namespaces: mustgather.StatusNamespaces(*settingsFlags.namespace)})
	if err != nil {
		return 2, err
	}
	defer dump.Close()
	ctx := context.Background()
	if !given {
		settings, source = settingsFlags.installed(ctx, dump)
	}
	settings.Registry.CABundles = append(settings.Registry.CABundles, caBundles...)
	// The dump's clock is the end of the gather: a build running then is judged as it was, not as days later.
	now, gathered := dump.GatheredAt()
	if gathered {
		source += fmt.Sprintf("; must-gather %s as of %s", dir, now.UTC().Format(time.RFC3339))
	} else {
		now = time.Now()
		source += fmt.Sprintf("; must-gather %s with no timestamp file, judged as of now", dir)
	}
	source += "; registries not probed (a must-gather is read offline)"

	cluster := &lookups.Cluster{Cached: dump, Direct: dump}
	env := app.RuleEnv(settings, cluster, nil)
	env.Source = mustgather.RuleSource{Cluster: cluster, Dump: dump}
	env.Now = func() time.Time { return now }
	opts := status.Options{Env: env, Checker: settings.Checker, Now: now,
		Logs: gather.LogOptions{Logs: dump, Limit: settings.Checker.LogLimitBytes}}
	if len(positional) == 1 {
		opts.Pool = positional[0]
	}
	reports, err := status.Collect(ctx, dump, opts)
	for _, p := range dump.Problems() {
		fmt.Fprintf(stderr, "%s: %v\n", commandName, p)
	}
	if err != nil {
		return 2, err
	}
	settingsOut := stdout
	if output == "json" {
		settingsOut = stderr
	}
	if _, err := fmt.Fprintf(settingsOut, "settings: %s\n", source); err != nil {
		return 2, err
	}
	if err := writeStatus(stdout, output, reports); err != nil {
		return 2, err
	}
	return status.ExitCode(reports), nil
}
