package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// columns shows the checker's annotations in `kubectl get` (and `oc get`) output.
const columns = `-o custom-columns='NAME:.metadata.name,DIAGNOSIS:.metadata.annotations.ocl-guard\.io/diagnosis,MESSAGE:.metadata.annotations.ocl-guard\.io/message'`

// printTry prints what to run to see each face, with paths relative to the repository root.
func (e *devEnv) printTry(out io.Writer, root string, registryPort int) {
	rel := func(p string) string {
		if r, err := filepath.Rel(root, p); err == nil && !strings.HasPrefix(r, "..") {
			return r
		}
		return p
	}
	k := rel(e.kubectl) + " --kubeconfig " + rel(e.kubeconfig)
	fmt.Fprintf(out, `
ocl-guard is running on a local control plane, with a registry at %[2]s (token auth over TLS).
Kubeconfig: %[3]s  (oc and kubectl: export KUBECONFIG=%[3]s)

From %[4]s:

1. Admission: the webhook denies with field paths and fixes, and warns.
  %[1]s apply --dry-run=server -f config/samples/machineosconfig_broken.yaml              # denied: secret, push spec, Containerfile
  %[1]s apply --dry-run=server -f config/samples/machineosconfig_local_pull_only.yaml     # denied: the push secret may only pull
  %[1]s apply --dry-run=server -f config/samples/machineosconfig_local_unreachable.yaml   # admitted, warning: registry unreachable
  %[1]s apply -f config/samples/machineosconfig.yaml                                      # admitted, with warnings

2. Builds: %[5]s failed to push; the checker says why and what to fix.
  %[1]s get machineosbuilds %[6]s
  %[1]s describe machineosbuild %[5]s          # the diagnosis as an Event

3. Rollouts: pool %[7]s is stuck, two of its nodes cannot pull the image; pool %[8]s waits for the failed build.
  %[1]s get machineconfigpools %[6]s

4. Audit after admission: %[8]s's push secret was rotated to pull-only credentials after it was admitted.
  %[1]s get machineosconfigs %[6]s

5. All three stages of every layered pool in one look, and what to do next, with the checker's settings.
  %[9]s status --kubeconfig %[10]s      # add a pool (%[8]s, %[7]s) for one, -o json for scripts
`, k, e.registry.Host, e.kubeconfig, root, failedPool+buildHash, columns, stalledPool, failedPool, rel(e.oclGuard), rel(e.kubeconfig))
	if registryPort != samplePort {
		fmt.Fprintf(out, "\nThe samples name port %d: sed 's/:%d/:%d/' config/samples/machineosconfig_local_pull_only.yaml | %s apply --dry-run=server -f -\n",
			samplePort, samplePort, registryPort, k)
	}
	fmt.Fprintln(out)
}
