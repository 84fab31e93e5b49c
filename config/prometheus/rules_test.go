// Package prometheus_test checks ocl-guard's alerting rules: promtool's unit tests, runbooks, and that every
// metric the rules and their tests use is one the code exports.
package prometheus_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	prom "github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/yaml"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/checker"
	"github.com/ocl-guard/ocl-guard/config"
	"github.com/ocl-guard/ocl-guard/webhook"
)

const runbookBase = "https://github.com/ocl-guard/ocl-guard/blob/main/docs/runbooks/"

type rule struct {
	Alert       string            `json:"alert"`
	Expr        string            `json:"expr"`
	For         string            `json:"for"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

type group struct {
	Name  string `json:"name"`
	Rules []rule `json:"rules"`
}

func ruleGroups(t *testing.T) []group {
	t.Helper()
	var pr struct {
		APIVersion string         `json:"apiVersion"`
		Kind       string         `json:"kind"`
		Metadata   map[string]any `json:"metadata"`
		Spec       struct {
			Groups []group `json:"groups"`
		} `json:"spec"`
	}
	raw, err := os.ReadFile("prometheusrule.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(raw, &pr); err != nil {
		t.Fatalf("prometheusrule.yaml: %v", err)
	}
	return pr.Spec.Groups
}

// TestPromtool runs `promtool check rules` and `promtool test rules` on the PrometheusRule's groups.
func TestPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not found: run make test-deps (test/tools/install-test-deps.sh installs Debian's prometheus package)")
	}
	dir := t.TempDir()
	rules, err := yaml.Marshal(map[string]any{"groups": ruleGroups(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ocl-guard.rules.yaml"), rules, 0o644); err != nil {
		t.Fatal(err)
	}
	tests, err := filepath.Glob("tests/*.yaml")
	if err != nil || len(tests) == 0 {
		t.Fatalf("no rule tests in tests/: %v", err)
	}
	args := []string{"test", "rules"}
	for _, f := range tests {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), raw, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, filepath.Base(f))
	}
	for _, cmdArgs := range [][]string{{"check", "rules", "ocl-guard.rules.yaml"}, args} {
		cmd := exec.Command(promtool, cmdArgs...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(cmdArgs, " "), err, out)
		}
	}
}

// TestAlertsHaveRunbooks: every alert has a severity, a summary, a description and a runbook under docs/runbooks
// that says what it means, how to confirm it with oc, and how to fix it; every runbook belongs to an alert.
func TestAlertsHaveRunbooks(t *testing.T) {
	var alerts []string
	for _, g := range ruleGroups(t) {
		for _, r := range g.Rules {
			alerts = append(alerts, r.Alert)
			if r.Labels["severity"] == "" || r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: needs labels.severity, annotations.summary and annotations.description", r.Alert)
			}
			if want := runbookBase + r.Alert + ".md"; r.Annotations["runbook_url"] != want {
				t.Errorf("%s: runbook_url %q, want %q", r.Alert, r.Annotations["runbook_url"], want)
			}
			page, err := os.ReadFile(filepath.Join("..", "..", "docs", "runbooks", r.Alert+".md"))
			if err != nil {
				t.Errorf("%s: %v", r.Alert, err)
				continue
			}
			for _, section := range []string{"# " + r.Alert + "\n", "\n## Meaning\n", "\n## Confirm\n", "\n## Fix\n", "oc "} {
				if !strings.Contains(string(page), section) {
					t.Errorf("docs/runbooks/%s.md lacks %q", r.Alert, strings.TrimSpace(section))
				}
			}
		}
	}
	pages, err := filepath.Glob(filepath.Join("..", "..", "docs", "runbooks", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pages {
		if name := strings.TrimSuffix(filepath.Base(p), ".md"); !slices.Contains(alerts, name) {
			t.Errorf("docs/runbooks/%s.md belongs to no alert", name)
		}
	}
}

// prometheusMade are series Prometheus makes itself, not the code.
var prometheusMade = []string{"up"}

// TestRulesUseExportedMetrics fails when a rule or a rule test names a metric that the code does not register:
// a renamed metric would otherwise leave its alert silently unable to fire.
func TestRulesUseExportedMetrics(t *testing.T) {
	// ocl-guard's collectors, made by the constructors the binaries' composition roots call; the webhook's and the
	// checker's processes each serve theirs beside controller-runtime's own (metrics.Registry).
	ours := prom.NewRegistry()
	if _, err := app.NewProber(config.Defaults().Registry, ours); err != nil {
		t.Fatal(err)
	}
	for _, c := range []prom.Collector{webhook.NewMetrics(), checker.NewMetrics()} {
		if err := ours.Register(c); err != nil {
			t.Fatal(err)
		}
	}
	used := map[string]string{}
	for _, g := range ruleGroups(t) {
		for _, r := range g.Rules {
			for _, name := range metricNames(r.Expr) {
				used[name] = "alert " + r.Alert
			}
		}
	}
	tests, _ := filepath.Glob("tests/*.yaml")
	for _, f := range tests {
		var file struct {
			Tests []struct {
				InputSeries []struct {
					Series string `json:"series"`
				} `json:"input_series"`
			} `json:"tests"`
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(raw, &file); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, tc := range file.Tests {
			for _, s := range tc.InputSeries {
				name, _, _ := strings.Cut(s.Series, "{")
				used[name] = f
			}
		}
	}
	if len(used) < 5 {
		t.Fatalf("found only %v: is the metric name extraction broken?", used)
	}
	for name, where := range used {
		if !slices.Contains(prometheusMade, name) && !registered(ours, name) && !registered(metrics.Registry, name) {
			t.Errorf("%s uses %s, which no ocl-guard or controller-runtime collector exports", where, name)
		}
	}
}

// registered reports whether reg holds a metric of that name: registering a probe of the same name is refused
// exactly then.
func registered(reg prom.Registerer, name string) bool {
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && registered(reg, base) {
			return true
		}
	}
	probe := prom.NewGauge(prom.GaugeOpts{Name: name, Help: "probe for " + name})
	err := reg.Register(probe)
	if err == nil {
		reg.Unregister(probe)
		return false
	}
	var already prom.AlreadyRegisteredError
	return errors.As(err, &already) || strings.Contains(err.Error(), "previously registered descriptor with the same fully-qualified name")
}

var (
	promqlStrings  = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`")
	promqlMatchers = regexp.MustCompile(`\{[^}]*\}|\[[^\]]*\]`)
	promqlGrouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promqlNumbers  = regexp.MustCompile(`\b[0-9][0-9A-Za-z.]*`) // numbers and durations; no name starts with a digit
	promqlIdent    = regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*(\s*\()?`)
	promqlKeywords = []string{"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right", "inf", "nan", "atan2"}
)

// metricNames returns the metric names an expression selects: identifiers that are not inside strings, label
// matchers, ranges or grouping lists, not functions or aggregations (followed by "("), and not keywords.
func metricNames(expr string) []string {
	expr = promqlStrings.ReplaceAllString(expr, `""`)
	expr = promqlMatchers.ReplaceAllString(expr, " ")
	expr = promqlGrouping.ReplaceAllString(expr, " ")
	expr = promqlNumbers.ReplaceAllString(expr, " ")
	var names []string
	for _, m := range promqlIdent.FindAllStringSubmatch(expr, -1) {
		if m[1] != "" || slices.Contains(promqlKeywords, strings.ToLower(m[0])) {
			continue
		}
		names = append(names, m[0])
	}
	return names
}

func TestMetricNames(t *testing.T) {
	got := metricNames(`(max(a_b{x="y", z=~"a|b"}) or on() vector(0)) < 1 and on (p) count(up{e="}"} == 1) > 0` +
		` and sum by (reason) (rate(c_total[5m] offset 1h)) / ignoring(q) d 1e3`)
	want := []string{"a_b", "up", "c_total", "d"}
	if !slices.Equal(got, want) {
		t.Errorf("metricNames = %q, want %q", got, want)
	}
}
