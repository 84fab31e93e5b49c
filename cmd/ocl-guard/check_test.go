package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
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
			1, []string{"MachineOSConfig worker: denied", "must be lowercase", "unknown instruction: RUNN",
				"push-secret-typo (push secret): not in the given manifests; check against a cluster with --live"}, nil},
		{"a directory, several documents per file", []string{"-f", "testdata"},
			1, []string{"MachineOSConfig infra: denied", `spec.machineConfigPool.name: Not found: "infra"`,
				`spec.renderedImagePushSecret.name: Invalid value: "opaque-push": the push secret "opaque-push" has type "Opaque"`}, nil},
		{"a rule switched off", []string{"-f", "../../config/samples/machineosconfig_broken.yaml", "--settings", "testdata/lenient.settings"},
			1, []string{"unknown instruction: RUNN"}, []string{"must be lowercase"}},
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
	if d := results[0].Denials[0]; d.Rule != "pool-exists" || d.Field != "spec.machineConfigPool.name" {
		t.Errorf("first denial = %+v", d)
	}
}

func TestCheckUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "nothing to check"},
		{[]string{"-f", "testdata", "-o", "yaml"}, `-o "yaml": use text or json`},
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
