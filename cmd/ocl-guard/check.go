package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/lookups"
	"github.com/ocl-guard/ocl-guard/validators"
)

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// checkResult is one MachineOSConfig's verdict, as printed with -o json.
type checkResult struct {
	Name     string         `json:"name"`
	Allowed  bool           `json:"allowed"`
	Denials  []checkFinding `json:"denials,omitempty"`
	Warnings []string       `json:"warnings,omitempty"`
	verdict  validators.Verdict
}

type checkFinding struct {
	Rule    validators.RuleID `json:"rule"`
	Field   string            `json:"field"`
	Message string            `json:"message"`
}

// runCheck is `ocl-guard check`: the admission rules, offline on manifests for CI, or live against a cluster.
// It returns the exit code: 0 when every config would be admitted, 1 when one would be denied.
func runCheck(args []string, stdout io.Writer) (int, error) {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	var files stringList
	fs.Var(&files, "f", "manifest file or directory (YAML or JSON, several documents per file; - for standard input); repeatable")
	settingsPath := fs.String("settings", "", "settings file; built-in defaults when empty")
	live := fs.Bool("live", false, "read Secrets and pools from the cluster (and check its MachineOSConfigs when no -f is given)")
	kubeconfig := fs.String("kubeconfig", "", "with --live: path to a kubeconfig; $KUBECONFIG or in-cluster config when empty")
	probe := fs.Bool("probe-registry", false, "probe the push registry (reachability and push rights); always on with --live")
	output := fs.String("o", "text", "output format: text or json")
	var caBundles stringList
	bindCABundleFlag(fs, &caBundles)
	if err := fs.Parse(args); err != nil {
		return 2, err
	}
	if *output != "text" && *output != "json" {
		return 2, fmt.Errorf("-o %q: use text or json", *output)
	}
	if len(files) == 0 && !*live {
		return 2, errors.New("nothing to check: give manifests with -f, or --live to check the cluster's MachineOSConfigs")
	}
	settings, err := loadSettings(*settingsPath)
	if err != nil {
		return 2, err
	}
	settings.Registry.CABundles = append(settings.Registry.CABundles, caBundles...)

	var configs []*mcfgv1.MachineOSConfig
	var cluster validators.Lookups
	offline := &lookups.Files{}
	if len(files) > 0 {
		if offline, err = lookups.LoadFiles(files...); err != nil {
			return 2, err
		}
		configs = offline.Configs
		cluster = offline
	}
	var prober lookups.RegistryProber
	if *probe || *live {
		p, err := app.NewProber(settings.Registry)
		if err != nil {
			return 2, err
		}
		prober = p
		offline.Prober = p
	}
	ctx := context.Background()
	if *live {
		c, err := liveClient(*kubeconfig)
		if err != nil {
			return 2, err
		}
		cluster = &lookups.Cluster{Cached: c, Direct: c, Prober: prober, Facts: lookups.NewFacts(settings.Preflight.Rules(), settings.Preflight.FactTTL.Duration)}
		if len(files) == 0 {
			var list mcfgv1.MachineOSConfigList
			if err := c.List(ctx, &list); err != nil {
				return 2, fmt.Errorf("listing MachineOSConfigs: %w", err)
			}
			for i := range list.Items {
				configs = append(configs, &list.Items[i])
			}
		}
	}
	if len(configs) == 0 {
		return 2, errors.New("no MachineOSConfig found to check")
	}

	results := make([]checkResult, 0, len(configs))
	denied := 0
	for _, mosc := range configs {
		r := evaluateForCheck(ctx, mosc, cluster, settings.ActionFor)
		if !r.Allowed {
			denied++
		}
		results = append(results, r)
	}
	if *output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			return 2, err
		}
	} else {
		printCheckResults(stdout, results, denied)
	}
	if denied > 0 {
		return 1, nil
	}
	return 0, nil
}

func evaluateForCheck(ctx context.Context, mosc *mcfgv1.MachineOSConfig, cluster validators.Lookups, actions validators.ActionFor) checkResult {
	v := validators.Evaluate(ctx, mosc, cluster, actions)
	r := checkResult{Name: mosc.Name, Warnings: v.WarningMessages(), verdict: v}
	for _, result := range v.Results {
		if result.Action != validators.ActionDeny {
			continue
		}
		for _, e := range result.Findings.Errs {
			r.Denials = append(r.Denials, checkFinding{Rule: result.Rule, Field: e.Field, Message: e.ErrorBody()})
		}
	}
	r.Allowed = len(r.Denials) == 0
	return r
}

func printCheckResults(w io.Writer, results []checkResult, denied int) {
	for _, r := range results {
		switch {
		case !r.Allowed:
			fmt.Fprintf(w, "MachineOSConfig %s: denied\n", r.Name)
		case len(r.Warnings) > 0:
			fmt.Fprintf(w, "MachineOSConfig %s: admitted, with warnings\n", r.Name)
		default:
			fmt.Fprintf(w, "MachineOSConfig %s: admitted\n", r.Name)
		}
		for _, e := range r.verdict.Denials() {
			fmt.Fprintf(w, "  * %s\n", e.Error())
		}
		for _, warning := range r.Warnings {
			fmt.Fprintf(w, "  Warning: %s\n", warning)
		}
	}
	fmt.Fprintf(w, "%d MachineOSConfig(s) checked: %d would be denied, %d admitted\n", len(results), denied, len(results)-denied)
}

func liveClient(kubeconfig string) (client.Client, error) {
	cfg, err := restConfig(kubeconfig)
	if err != nil {
		return nil, err
	}
	scheme, err := app.Scheme()
	if err != nil {
		return nil, err
	}
	return client.New(cfg, client.Options{Scheme: scheme})
}
