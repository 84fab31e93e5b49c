package argocd

import (
	"flag"
	"os"
	"path"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite the snippet files from the scripts")

// TestLuaHealthScript runs every case of every health_test.yaml, as Argo CD's util/lua test does for its own tree.
func TestLuaHealthScript(t *testing.T) {
	checks, err := Checks()
	if err != nil {
		t.Fatal(err)
	}
	if len(checks) != 3 {
		t.Fatalf("want the MachineOSConfig, MachineOSBuild and MachineConfigPool checks, found %d", len(checks))
	}
	for _, c := range checks {
		cases, err := c.Cases()
		if err != nil {
			t.Fatal(err)
		}
		if len(cases) == 0 {
			t.Errorf("%s/%s: health_test.yaml has no tests", c.Group, c.Kind)
		}
		for _, tc := range cases {
			t.Run(path.Join(c.Kind, tc.InputPath), func(t *testing.T) {
				got, err := Evaluate(c.Script, tc.Object)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tc.Want, got); diff != "" {
					t.Errorf("health (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestLuaHealthScriptDefensive feeds every script objects with parts missing or of the wrong shape: Argo CD shows
// a script error as the resource's health, so none may error.
func TestLuaHealthScriptDefensive(t *testing.T) {
	checks, err := Checks()
	if err != nil {
		t.Fatal(err)
	}
	inputs := map[string]map[string]any{
		"empty":              {},
		"no status":          {"metadata": map[string]any{"name": "x"}},
		"empty status":       {"metadata": map[string]any{}, "status": map[string]any{}},
		"empty conditions":   {"status": map[string]any{"conditions": []any{}}},
		"condition no type":  {"status": map[string]any{"conditions": []any{map[string]any{"status": "True"}}}},
		"no annotations":     {"metadata": map[string]any{"annotations": nil}, "spec": map[string]any{}},
		"empty annotations":  {"metadata": map[string]any{"annotations": map[string]any{"ocl-guard.io/diagnosis": ""}}},
		"diagnosis only":     {"metadata": map[string]any{"annotations": map[string]any{"ocl-guard.io/diagnosis": "PushAuth"}}},
		"counts no updated":  {"status": map[string]any{"machineCount": int64(3)}},
		"true, no message":   {"status": map[string]any{"conditions": []any{map[string]any{"type": "Failed", "status": "True"}, map[string]any{"type": "NodeDegraded", "status": "True"}}}},
		"build ref no name":  {"metadata": map[string]any{"annotations": map[string]any{"machineconfiguration.openshift.io/current-machine-os-build": "b"}}, "status": map[string]any{"machineOSBuild": map[string]any{}}},
		"paused, no status":  {"spec": map[string]any{"paused": true}},
		"succeeded, no spec": {"status": map[string]any{"conditions": []any{map[string]any{"type": "Succeeded", "status": "True"}}}},
	}
	for _, c := range checks {
		for name, obj := range inputs {
			t.Run(c.Kind+"/"+name, func(t *testing.T) {
				got, err := Evaluate(c.Script, obj)
				if err != nil {
					t.Fatal(err)
				}
				if got.Message == "" {
					t.Errorf("status %s without a message", got.Status)
				}
			})
		}
	}
}

// TestSeverityDecides: with ocl-guard's diagnosis present, its severity decides the health of each kind, whatever
// the reason (RolloutPaused and PoolPaused included: a name is never special); a diagnosis without a severity, as a
// checker older than the annotation leaves it, counts as an Error.
func TestSeverityDecides(t *testing.T) {
	checks, err := Checks()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]string{ // kind → severity → status
		"MachineOSBuild":    {"Error": "Degraded", "Warning": "Degraded", "Info": "Suspended", "": "Degraded"},
		"MachineConfigPool": {"Error": "Degraded", "Warning": "Degraded", "Info": "Suspended", "": "Degraded"},
		"MachineOSConfig":   {"Error": "Degraded", "Warning": "Progressing", "Info": "Suspended", "": "Degraded"},
	}
	for _, c := range checks {
		for severity, status := range want[c.Kind] {
			for _, reason := range []string{"RolloutPaused", "PoolPaused", "Interrupted", "PushAuth", "SomeFutureReason"} {
				annotations := map[string]any{"ocl-guard.io/diagnosis": reason, "ocl-guard.io/message": "the message"}
				if severity != "" {
					annotations["ocl-guard.io/severity"] = severity
				}
				obj := map[string]any{"metadata": map[string]any{"annotations": annotations}, "spec": map[string]any{"paused": false}}
				t.Run(c.Kind+"/"+reason+"/"+severity, func(t *testing.T) {
					got, err := Evaluate(c.Script, obj)
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(HealthStatus{Status: status, Message: "the message"}, got); diff != "" {
						t.Errorf("health (-want +got):\n%s", diff)
					}
				})
			}
		}
	}
}

// An Info diagnosis never makes a pool Degraded, but a *Degraded condition of the MCO's still does.
func TestPoolInfoLeavesTheMCOsDegradationVisible(t *testing.T) {
	checks, err := Checks()
	if err != nil {
		t.Fatal(err)
	}
	obj := map[string]any{
		"metadata": map[string]any{"annotations": map[string]any{"ocl-guard.io/diagnosis": "RolloutPaused", "ocl-guard.io/severity": "Info", "ocl-guard.io/message": "paused"}},
		"spec":     map[string]any{"paused": true},
		"status":   map[string]any{"conditions": []any{map[string]any{"type": "RenderDegraded", "status": "True", "message": "render failed"}}},
	}
	for _, c := range checks {
		if c.Kind != "MachineConfigPool" {
			continue
		}
		got, err := Evaluate(c.Script, obj)
		if err != nil {
			t.Fatal(err)
		}
		if want := (HealthStatus{Status: "Degraded", Message: "render failed"}); got != want {
			t.Errorf("got %+v, want %+v", got, want)
		}
		return
	}
	t.Fatal("no MachineConfigPool check")
}

// TestSnippets keeps argocd-cm.yaml and argocd-cr.yaml equal to what the scripts render, and checks that each
// carries every script verbatim under the key Argo CD reads.
func TestSnippets(t *testing.T) {
	checks, err := Checks()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{ConfigMapSnippet, ArgoCDSnippet} {
		want, err := Render(name, checks)
		if err != nil {
			t.Fatal(err)
		}
		if *update {
			if err := os.WriteFile(name, want, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(want), string(got)); diff != "" {
			t.Errorf("%s is stale; run go test ./config/argocd -update (-want +got):\n%s", name, diff)
		}
	}

	var cm struct {
		Data map[string]string `json:"data"`
	}
	var cr struct {
		Spec struct {
			ResourceHealthChecks []struct{ Group, Kind, Check string } `json:"resourceHealthChecks"`
		} `json:"spec"`
	}
	readYAML(t, ConfigMapSnippet, &cm)
	readYAML(t, ArgoCDSnippet, &cr)
	if len(cm.Data) != len(checks) || len(cr.Spec.ResourceHealthChecks) != len(checks) {
		t.Fatalf("snippets hold %d and %d checks, want %d", len(cm.Data), len(cr.Spec.ResourceHealthChecks), len(checks))
	}
	for i, c := range checks {
		if cm.Data[c.ConfigMapKey()] != c.Script {
			t.Errorf("%s: %s differs from %s/%s/health.lua", ConfigMapSnippet, c.ConfigMapKey(), c.Group, c.Kind)
		}
		e := cr.Spec.ResourceHealthChecks[i]
		if e.Group != c.Group || e.Kind != c.Kind || e.Check != c.Script {
			t.Errorf("%s: entry %d (%s/%s) differs from %s/%s/health.lua", ArgoCDSnippet, i, e.Group, e.Kind, c.Group, c.Kind)
		}
	}
}

func readYAML(t *testing.T, name string, into any) {
	t.Helper()
	raw, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, into); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// TestEvaluateRefuses: results Argo CD would not accept are errors here, so a broken script fails the tests.
func TestEvaluateRefuses(t *testing.T) {
	for name, script := range map[string]string{
		"no table":           `return "Healthy"`,
		"unknown status":     `return {status = "Fine"}`,
		"no status":          `return {message = "m"}`,
		"message not string": `return {status = "Healthy", message = {}}`,
		"syntax error":       `return {status = `,
		"runtime error":      `return {status = obj.status.phase}`,
		"string library":     `return {status = string.upper("healthy")}`, // not opened for argocd-cm scripts
		"endless loop":       `while true do end`,                         // stopped by the one-second limit
	} {
		t.Run(name, func(t *testing.T) {
			if got, err := Evaluate(script, map[string]any{}); err == nil {
				t.Errorf("accepted, returned %+v", got)
			}
		})
	}
}
