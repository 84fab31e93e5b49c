package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/ocl-guard/ocl-guard/validators"
)

func TestCheckOffline(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
		want     []string
		wantNot  []string
	}{
		{"the good sample with its prerequisites", []string{"-f", "../../config/samples/prerequisites.yaml", "-f", "../../config/samples/machineosconfig.yaml"},
			0, []string{"MachineOSConfig worker: admitted, with warnings", `[pushspec-syntax] tag "latest" is not used`, "0 would be denied, 1 admitted"}, nil},
		{"the broken sample", []string{"-f", "../../config/samples/machineosconfig_broken.yaml"},
			1, []string{"MachineOSConfig worker: denied", "must be lowercase", "unknown Dockerfile instruction: runn",
				"push-secret-typo (push secret): not in the given manifests; check against a cluster with --live"}, nil},
		{"a directory, several documents per file", []string{"-f", "testdata"},
			1, []string{"MachineOSConfig infra: denied", `spec.machineConfigPool.name: Not found: "infra"`,
				`spec.renderedImagePushSecret.name: Invalid value: "opaque-push": the push secret "opaque-push" has type "Opaque"`}, nil},
		{"a rule switched off", []string{"-f", "../../config/samples/machineosconfig_broken.yaml", "--settings", "testdata/lenient.settings"},
			1, []string{"unknown Dockerfile instruction: runn"}, []string{"must be lowercase"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			code, err := runCheck(tc.args, &out)
			if err != nil {
				t.Fatal(err)
			}
			if code != tc.wantCode {
				t.Errorf("exit code %d, want %d\n%s", code, tc.wantCode, out.String())
			}
			for _, want := range tc.want {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
			for _, unwanted := range tc.wantNot {
				if strings.Contains(out.String(), unwanted) {
					t.Errorf("output has %q:\n%s", unwanted, out.String())
				}
			}
			if strings.Contains(out.String(), "hunter2") {
				t.Errorf("a credential leaked:\n%s", out.String())
			}
		})
	}
}

func TestCheckJSON(t *testing.T) {
	var out bytes.Buffer
	code, err := runCheck([]string{"-f", "testdata/infra-broken.yaml", "-o", "json"}, &out)
	if err != nil || code != 1 {
		t.Fatalf("code %d, err %v", code, err)
	}
	var results []checkResult
	if err := json.Unmarshal(out.Bytes(), &results); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(results) != 1 || results[0].Allowed || len(results[0].Denials) != 2 {
		t.Fatalf("results = %+v", results)
	}
	if d := results[0].Denials[0]; d.Rule != "pool-exists" || d.Field != "spec.machineConfigPool.name" || d.Line != 7 {
		t.Errorf("first denial = %+v", d)
	}
}

func TestCheckUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "nothing to check"},
		{[]string{"-f", "testdata", "-o", "yaml"}, `-o "yaml": use one of text, json, junit, sarif`},
		{[]string{"-f", "testdata", "--fail-on", "info"}, `--fail-on "info": use errors or warnings`},
		{[]string{"-f", "does-not-exist.yaml"}, "does-not-exist.yaml"},
		{[]string{"-f", "testdata/not-a-manifest.txt"}, "document 1"},
		{[]string{"-f", "testdata", "--settings", "testdata/bad.settings"}, "rules.no-such-rule: unknown rule"},
		{[]string{"-f", "testdata", "--probe-registry", "--registry-ca-bundle", "testdata/lenient.settings"}, "registry.caBundles: CA bundle testdata/lenient.settings: no PEM certificate found"},
	} {
		code, err := runCheck(tc.args, &bytes.Buffer{})
		if code != 2 || err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: code %d, err %v; want 2 and an error containing %q", tc.args, code, err, tc.want)
		}
	}
}

// What pipelines feed check: an installer's manifests (hidden entries skipped), Lists in JSON, kustomize output on
// standard input, each finding with the line it is on.
func TestCheckInputs(t *testing.T) {
	kustomized, err := os.ReadFile("../../config/samples/machineosconfig_broken.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		args     []string
		stdin    string
		wantCode int
		want     []string
	}{
		{"an installer directory", []string{"-f", "testdata/installer"}, "", 0,
			[]string{"testdata/installer/openshift/99-worker-machineosconfig.yaml:2: MachineOSConfig worker: admitted, with warnings", "1 MachineOSConfig(s) checked"}},
		{"an installer manifest with a pre-built image by tag", []string{"-f", "testdata/installer-broken"}, "", 1,
			[]string{"99-infra-machineosconfig.yaml:7: [prebuilt-image] metadata.annotations[machineconfiguration.openshift.io/pre-built-image]: Invalid value"}},
		{"warnings fail with --fail-on warnings", []string{"-f", "testdata/installer", "--fail-on", "warnings"}, "", 1,
			[]string{"0 would be denied"}},
		{"a List in JSON with tabs", []string{"-f", "testdata/list.json"}, "", 1,
			[]string{"testdata/list.json:5: MachineOSConfig infra: denied", "testdata/list.json:14: [containerfile] spec.containerFile[0].content"}},
		{"kustomize build output on standard input", []string{"-f", "-"}, "---\n" + string(kustomized) + "---\n", 1,
			[]string{"standard input:15: [pushspec-syntax] spec.renderedImagePushSpec", "standard input:18: [containerfile]"}},
		{"the CRD's schema before the rules", []string{"-f", "testdata/schema-broken.yaml"}, "", 1,
			[]string{"schema-broken.yaml:14: [crd-schema] spec.pushSecret: field not declared in the MachineOSConfig CRD",
				`schema-broken.yaml:10: [crd-schema] spec.imageBuilder.imageBuilderType: Unsupported value: "Pod": supported values: "Job"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.stdin != "" {
				withStdin(t, tc.stdin)
			}
			var out bytes.Buffer
			code, err := runCheck(tc.args, &out)
			if err != nil {
				t.Fatal(err)
			}
			if code != tc.wantCode {
				t.Errorf("exit code %d, want %d\n%s", code, tc.wantCode, out.String())
			}
			for _, want := range tc.want {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}

// A config the API server refuses never reaches the webhook, so check runs no rule on it.
func TestCheckSchemaRefusalSkipsTheRules(t *testing.T) {
	results := checkJSON(t, "-f", "testdata/schema-broken.yaml")
	if len(results) != 1 || results[0].Allowed {
		t.Fatalf("results = %+v", results)
	}
	for _, d := range results[0].Denials {
		if d.Rule != "crd-schema" {
			t.Errorf("denial from %s after a schema refusal: %+v", d.Rule, d)
		}
	}
	if got := results[0].Denials[0]; got.Field != "spec.pushSecret" || got.Line != 14 {
		t.Errorf("first denial = %+v, want spec.pushSecret on line 14", got)
	}
}

func checkJSON(t *testing.T, args ...string) []checkResult {
	t.Helper()
	var out bytes.Buffer
	if _, err := runCheck(append(args, "-o", "json"), &out); err != nil {
		t.Fatal(err)
	}
	var results []checkResult
	if err := json.Unmarshal(out.Bytes(), &results); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	return results
}

func withStdin(t *testing.T, content string) {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "stdin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	saved := os.Stdin
	os.Stdin = f
	t.Cleanup(func() { os.Stdin = saved; f.Close() })
}

func TestCheckJUnit(t *testing.T) {
	for _, tc := range []struct {
		args         []string
		wantFailures map[string]string // test case -> failure type
		wantSkipped  int
	}{
		{[]string{"-f", "../../config/samples/machineosconfig_broken.yaml"},
			map[string]string{"pushspec-syntax": "denied", "containerfile": "denied"}, 0},
		{[]string{"-f", "../../config/samples/machineosconfig_broken.yaml", "--fail-on", "warnings"},
			map[string]string{"pushspec-syntax": "denied", "containerfile": "denied", "secret-exists": "warning"}, 0},
		{[]string{"-f", "testdata/schema-broken.yaml"}, map[string]string{"crd-schema": "denied"}, len(validators.Stage1Rules())}, // the rules: skipped
	} {
		var out bytes.Buffer
		if _, err := runCheck(append(tc.args, "-o", "junit"), &out); err != nil {
			t.Fatal(err)
		}
		var doc junitSuites
		if err := xml.Unmarshal(out.Bytes(), &doc); err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
		if len(doc.Suites) != 1 {
			t.Fatalf("%v: %d suites\n%s", tc.args, len(doc.Suites), out.String())
		}
		suite := doc.Suites[0]
		failures := map[string]string{}
		for _, c := range suite.Cases {
			if c.Failure != nil {
				failures[c.Name] = c.Failure.Type
				if c.Line == 0 || c.File == "" || !strings.Contains(c.Failure.Text, c.File) {
					t.Errorf("%v: failure %s lacks its location: %+v", tc.args, c.Name, c)
				}
			}
		}
		if !maps.Equal(failures, tc.wantFailures) || suite.Failures != len(tc.wantFailures) || suite.Skipped != tc.wantSkipped {
			t.Errorf("%v: failures %v (%d), skipped %d; want %v, skipped %d\n%s", tc.args, failures, suite.Failures, suite.Skipped, tc.wantFailures, tc.wantSkipped, out.String())
		}
	}
}

func TestCheckSARIF(t *testing.T) {
	var out bytes.Buffer
	code, err := runCheck([]string{"-f", "../../config/samples/machineosconfig_broken.yaml", "-o", "sarif"}, &out)
	if err != nil || code != 1 {
		t.Fatalf("code %d, err %v", code, err)
	}
	var log sarifLog
	if err := json.Unmarshal(out.Bytes(), &log); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 {
		t.Fatalf("log = %+v", log)
	}
	type located struct {
		rule, level, uri string
		line             int
	}
	var got []located
	for _, r := range log.Runs[0].Results {
		l := located{rule: r.RuleID, level: r.Level}
		if p := r.Locations[0].Physical; p != nil && p.Region != nil {
			l.uri, l.line = p.Artifact.URI, p.Region.StartLine
		}
		got = append(got, l)
	}
	file := "../../config/samples/machineosconfig_broken.yaml"
	want := []located{{"pushspec-syntax", "error", file, 14}, {"containerfile", "error", file, 17},
		{"secret-exists", "warning", file, 3}, {"secret-exists", "warning", file, 3}}
	if !slices.Equal(got, want) {
		t.Errorf("results %+v, want %+v", got, want)
	}
	ids := map[string]bool{}
	for _, rule := range log.Runs[0].Tool.Driver.Rules {
		ids[rule.ID] = true
	}
	for _, r := range got {
		if !ids[r.rule] {
			t.Errorf("result rule %s is not among the driver's rules", r.rule)
		}
	}
}
