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
