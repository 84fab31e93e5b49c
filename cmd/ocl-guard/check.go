package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/crdschema"
	"github.com/ocl-guard/ocl-guard/findings"
	"github.com/ocl-guard/ocl-guard/lookups"
	"github.com/ocl-guard/ocl-guard/validators"
)

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// checkResult is one MachineOSConfig's verdict, as printed with -o json.
type checkResult struct {
	Name string `json:"name"`
	// File and Line locate the object; empty for objects read from the cluster.
	File     string         `json:"file,omitempty"`
	Line     int            `json:"line,omitempty"`
	Allowed  bool           `json:"allowed"`
	Denials  []checkFinding `json:"denials,omitempty"`
	Warnings []checkFinding `json:"warnings,omitempty"`
	// Skipped are what a rule could not judge here, e.g. a registry not probed without --probe-registry.
	Skipped []checkFinding `json:"skipped,omitempty"`
	// Ran lists the rules that were evaluated, the CRD schema first; none after a schema refusal, since the API
	// server refuses such an object before any admission webhook sees it.
	Ran           []string `json:"-"`
	schemaRefused bool
}

// checkFinding is a finding as -o json prints it, with the line of its field when the object came from a file.
type checkFinding struct {
	Rule    string `json:"rule"`
	Field   string `json:"field,omitempty"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
	finding findings.Finding
}

func newCheckFinding(f findings.Finding, line int) checkFinding {
	return checkFinding{Rule: string(f.Rule), Field: f.Field, Line: line, Message: f.Message, finding: f}
}

// location is file:line when the object came from a file, for messages that CI logs and editors link.
func (r checkResult) location(line int) string {
	switch {
	case r.File == "":
		return ""
	case line == 0:
		return r.File + ": "
	default:
		return fmt.Sprintf("%s:%d: ", r.File, line)
	}
}

// checkFlags are the options of one `ocl-guard check` run that shape its verdicts and output.
type checkFlags struct {
	failOnWarn bool
	env        validators.Env
	// configSchema is crdschema.MachineOSConfig: compiled on first use, which runCheck starts while the first files
	// are read (10–20 ms of every run).
	configSchema func() (*crdschema.Schema, error)
}

// runCheck is `ocl-guard check`: the CRD's schema and the admission rules, offline on manifests for CI, or live
// against a cluster. It returns the exit code: 0 when every config would be admitted, 1 when one would be denied
// (or, with --fail-on warnings, would be admitted with warnings), 2 when the check itself could not run.
func runCheck(args []string, stdout io.Writer) (int, error) {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	var files stringList
	fs.Var(&files, "f", "manifest file or directory, read recursively (what kubectl apply -f reads: YAML documents, concatenated JSON objects, Lists; - for standard input, e.g. kustomize build output); repeatable")
	settingsPath := fs.String("settings", "", "settings file; built-in defaults when empty")
	live := fs.Bool("live", false, "read Secrets and pools from the cluster (and check its MachineOSConfigs when no -f is given)")
	kubeconfig := fs.String("kubeconfig", "", "with --live: path to a kubeconfig; $KUBECONFIG or in-cluster config when empty")
	probe := fs.Bool("probe-registry", false, "probe the push registry (reachability and push rights); always on with --live")
	output := fs.String("o", "text", "output format: "+strings.Join(outputFormats, ", "))
	failOn := fs.String("fail-on", "errors", "exit 1 on: errors (a config would be denied) or warnings (also when one would be admitted with warnings)")
	var caBundles stringList
	bindCABundleFlag(fs, &caBundles)
	if err := fs.Parse(args); err != nil {
		return 2, err
	}
	if !slices.Contains(outputFormats, *output) {
		return 2, fmt.Errorf("-o %q: use one of %s", *output, strings.Join(outputFormats, ", "))
	}
	if *failOn != "errors" && *failOn != "warnings" {
		return 2, fmt.Errorf("--fail-on %q: use errors or warnings", *failOn)
	}
	if len(files) == 0 && !*live {
		return 2, errors.New("nothing to check: give manifests with -f, or --live to check the cluster's MachineOSConfigs")
	}
	settings, err := loadSettings(*settingsPath)
	if err != nil {
		return 2, err
	}
	settings.Registry.CABundles = append(settings.Registry.CABundles, caBundles...)
	go func() { _, _ = crdschema.MachineOSConfig() }() // compiled while the files are read; its error is read below
	opts := checkFlags{failOnWarn: *failOn == "warnings", configSchema: crdschema.MachineOSConfig}
	// Offline, facts come from the files and settings from --settings: the same Env as every other face.
	opts.env = validators.Env{Actions: settings.ActionFor, Preflight: settings.Preflight.Rules()}
	if *probe || *live {
		p, err := app.NewProber(settings.Registry, nil)
		if err != nil {
			return 2, err
		}
		opts.env.Prober = p
	}
	batchGC()
	ctx := context.Background()
	out := &checkOutput{format: reportFormats[*output], failOnWarn: opts.failOnWarn}
	defer out.close()
	var results []renderedResult
	if *live {
		c, err := liveClient(*kubeconfig)
		if err != nil {
			return 2, err
		}
		opts.env = app.RuleEnv(settings, &lookups.Cluster{Cached: c, Direct: c}, opts.env.Prober)
		if len(files) == 0 {
			var list mcfgv1.MachineOSConfigList
			if err := c.List(ctx, &list); err != nil {
				return 2, fmt.Errorf("listing MachineOSConfigs: %w", err)
			}
			for i := range list.Items {
				results = append(results, out.add(opts.checkConfig(ctx, &list.Items[i], checkResult{Name: list.Items[i].Name}, nil)))
			}
		}
	}
	if len(files) > 0 {
		if results, err = opts.checkFiles(ctx, files, *live, 0, out); err != nil {
			return 2, err
		}
	}
	if _, err := opts.configSchema(); err != nil {
		return 2, err // every config read was left unchecked
	}
	if len(results) == 0 {
		return 2, errors.New("no MachineOSConfig found to check")
	}

	if err := out.write(stdout, results); err != nil {
		return 2, err
	}
	for _, r := range results {
		if !r.allowed() || (opts.failOnWarn && r.warned) {
			return 1, nil
		}
	}
	return 0, nil
}

// checkFiles checks the MachineOSConfigs of the manifest files, workers at a time (GOMAXPROCS when 0), in the order
// read, and renders each verdict into out as it is decided. Offline, the rules' facts are the Secrets and pools of
// the files; with --live, the cluster's.
func (o checkFlags) checkFiles(ctx context.Context, files []string, live bool, workers int, out *checkOutput) ([]renderedResult, error) {
	return lookups.CheckConfigs(files, workers, func(m *lookups.Manifest, facts validators.Source) renderedResult {
		this := o // checks run at once: each sets its own Source
		if !live {
			this.env.Source = facts
		}
		return out.add(this.checkManifest(ctx, m))
	})
}

// checkManifest validates a MachineOSConfig read from a file against the CRD, then, if the API server would store
// it, runs the admission rules on what it would store (defaults applied, unknown fields dropped).
func (o checkFlags) checkManifest(ctx context.Context, m *lookups.Manifest) checkResult {
	u := unstructured.Unstructured{Object: m.Object}
	r := checkResult{Name: u.GetName(), File: m.File, Line: m.Line, Ran: []string{crdschema.RuleID}}
	schema, err := o.configSchema()
	if err != nil {
		return r // runCheck reports the error
	}
	admitted := schema.ValidateCreate(ctx, m.Object)
	for _, path := range admitted.Unknown {
		r.Denials = append(r.Denials, newCheckFinding(findings.Finding{Rule: crdschema.RuleID, Field: path, Outcome: findings.Fail,
			Message: "field not declared in the MachineOSConfig CRD: oc apply refuses it (strict field validation) and other clients see it dropped silently; remove it or fix its spelling"},
			m.FieldLine(path)))
	}
	for _, e := range admitted.Errs {
		f := findings.FromError(crdschema.RuleID, findings.Fail, e)
		if f.Field == "<nil>" { // a rule on the whole object
			f.Field = ""
		}
		r.Denials = append(r.Denials, newCheckFinding(f, m.FieldLine(f.Field)))
	}
	if len(r.Denials) > 0 {
		r.schemaRefused = true
		return r
	}
	var mosc mcfgv1.MachineOSConfig
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(admitted.Object, &mosc, true); err != nil {
		// The schema admitted it, so this is a disagreement between the CRD and the Go types: say so, don't guess.
		r.Denials = append(r.Denials, newCheckFinding(findings.Finding{Rule: crdschema.RuleID, Outcome: findings.Fail,
			Message: "the CRD admits this object but the MachineOSConfig Go type cannot hold it: " + err.Error()}, m.Line))
		return r
	}
	return o.checkConfig(ctx, &mosc, r, m.FieldLine)
}

// checkConfig runs the admission rules; lineOf locates fields when the object came from a file.
func (o checkFlags) checkConfig(ctx context.Context, mosc *mcfgv1.MachineOSConfig, r checkResult, lineOf func(string) int) checkResult {
	if lineOf == nil {
		lineOf = func(string) int { return 0 }
	}
	v := validators.Evaluate(ctx, mosc, o.env)
	for _, rule := range v.Findings.Rules() {
		r.Ran = append(r.Ran, string(rule))
	}
	for _, f := range v.Findings {
		line := r.Line
		if f.Field != "" {
			line = lineOf(f.Field)
		}
		switch f.Outcome {
		case findings.Fail:
			r.Denials = append(r.Denials, newCheckFinding(f, line))
		case findings.Warn:
			r.Warnings = append(r.Warnings, newCheckFinding(f, line))
		case findings.Skip:
			r.Skipped = append(r.Skipped, newCheckFinding(f, line))
		}
	}
	r.Allowed = len(r.Denials) == 0
	return r
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
