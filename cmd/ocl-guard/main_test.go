package main

import (
	"bytes"
	"strings"
	"testing"
)

// The binary dispatches on argv[0]: as kubectl-ocl_guard it is a kubectl/oc plugin offering the client commands,
// with status the default.
func TestRunDispatch(t *testing.T) {
	for _, tc := range []struct {
		name     string
		argv     []string
		wantCode int
		inOut    string
		inErr    string
	}{
		{"no command", []string{"ocl-guard"}, 2, "", "ocl-guard status [POOL]"},
		{"help", []string{"/usr/local/bin/ocl-guard", "help"}, 0, "ocl-guard webhook", ""},
		{"unknown", []string{"ocl-guard", "stauts"}, 2, "", `unknown command "stauts"`},
		{"plugin help", []string{"/home/u/bin/" + PluginBinary, "help"}, 0, "kubectl ocl-guard [status] [POOL]", ""},
		{"oc plugin help", []string{"oc-ocl_guard", "--help"}, 0, "oc ocl-guard check", ""},
		{"plugin refuses the server commands", []string{PluginBinary, "webhook"}, 2, "", "runs in the cluster"},
		{"plugin: flags go to status", []string{PluginBinary, "-o", "yaml"}, 2, "", `kubectl ocl-guard status: -o "yaml": use text or json`},
		{"plugin: a pool name goes to status", []string{PluginBinary, "worker", "extra"}, 2, "", `give at most one pool, not ["worker" "extra"]`},
		{"status: flags after the pool", []string{"ocl-guard", "status", "worker", "-o", "xml"}, 2, "", `-o "xml"`},
		{"status: --watch prints text", []string{"ocl-guard", "status", "--watch", "-o", "json"}, 2, "", "--watch prints text; -o json is for one look"},
		{"wait: a pool is needed", []string{"ocl-guard", "wait"}, 3, "", "give one pool"},
		{"wait: one pool", []string{"ocl-guard", "wait", "worker", "infra"}, 3, "", `give one pool (the MachineOSConfig's spec.machineConfigPool.name), not ["worker" "infra"]`},
		{"wait: --for", []string{"ocl-guard", "wait", "worker", "--for", "nodes"}, 3, "", `--for "nodes": use build or rollout`},
		{"wait: --timeout", []string{"ocl-guard", "wait", "worker", "--timeout", "-1m"}, 3, "", "--timeout -1m0s: give a positive duration"},
		{"wait: an unknown flag", []string{"ocl-guard", "wait", "worker", "--until", "x"}, 3, "", "flag provided but not defined: -until"},
		{"plugin: wait is a command, not a pool", []string{PluginBinary, "wait"}, 3, "", "kubectl ocl-guard wait: give one pool"},
		{"status: bad settings", []string{"ocl-guard", "status", "--settings", "testdata/bad.settings"}, 2, "", "settings"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			commandName = "ocl-guard"
			var out, errOut bytes.Buffer
			if code := run(tc.argv, &out, &errOut); code != tc.wantCode {
				t.Errorf("exit code %d, want %d; stderr: %s", code, tc.wantCode, errOut.String())
			}
			if !strings.Contains(out.String(), tc.inOut) {
				t.Errorf("stdout lacks %q:\n%s", tc.inOut, out.String())
			}
			if !strings.Contains(errOut.String(), tc.inErr) {
				t.Errorf("stderr lacks %q:\n%s", tc.inErr, errOut.String())
			}
		})
	}
}
