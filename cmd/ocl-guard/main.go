// Command ocl-guard validates OpenShift On-Cluster Layering configurations and diagnoses their builds and
// rollouts. Subcommands: webhook (admission for MachineOSConfig), checker (diagnosis controller), check (the
// admission rules on manifests or a live cluster), status (every layered pool's state, live, or followed with
// --watch), wait (until a pool runs its current build's image, for pipelines).
//
// Installed as kubectl-ocl_guard (make plugin) it is a kubectl and oc plugin: `oc ocl-guard status` runs
// `ocl-guard status`; as a plugin it offers the client commands only, and runs status when given none.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// PluginBinary is the name kubectl and oc look for to run `kubectl ocl-guard` (a dash in a plugin's name is an
// underscore in its file name).
const PluginBinary = "kubectl-ocl_guard"

// commandName is how the user typed us, for usage texts: "ocl-guard", or "kubectl ocl-guard" as a plugin.
var commandName = "ocl-guard"

const usage = `%[1]s stops broken On-Cluster Layering configurations before they fail.

Usage:
  %[1]s webhook [flags]   serve the MachineOSConfig validating webhook
  %[1]s checker [flags]   diagnose builds and rollouts; write the diagnosis onto builds, pools and configs
  %[1]s check [flags]     the admission rules on manifests (-f, for CI) or on the cluster (--live)
  %[1]s status [POOL]     every layered pool (or POOL): config, current build, rollout, and what to do next
                          (--watch: follow them)
  %[1]s wait POOL         until POOL runs its current build's image (exit 0), the build fails or a node
                          degrades (1), or --timeout (2)
  %[1]s help              show this text

Run "%[1]s <command> -h" for a command's flags.
`

const pluginUsage = `%[1]s: On-Cluster Layering status and checks (ocl-guard as a kubectl/oc plugin).

Usage:
  %[1]s [status] [POOL]   every layered pool (or POOL): config, current build, rollout, and what to do next
  %[1]s check [flags]     the admission rules on manifests (-f) or on the cluster (--live)
  %[1]s wait POOL         until POOL runs its current build's image (0), the build fails or a node degrades (1),
                          or --timeout (2)
  %[1]s help              show this text
`

func main() { os.Exit(run(os.Args, os.Stdout, os.Stderr)) }

// run dispatches on the subcommand, and on argv[0]: as kubectl-ocl_guard (or oc-ocl_guard) it is a plugin.
func run(argv []string, stdout, stderr io.Writer) int {
	text := usage
	base := strings.TrimSuffix(filepath.Base(argv[0]), ".exe")
	plugin := false
	for _, tool := range []string{"kubectl", "oc"} {
		if base == tool+"-ocl_guard" || base == tool+"-ocl-guard" {
			plugin, commandName, text = true, tool+" ocl-guard", pluginUsage
		}
	}
	args := argv[1:]
	if plugin && (len(args) == 0 || strings.HasPrefix(args[0], "-") && args[0] != "-h" && args[0] != "--help" || isPoolName(args[0])) {
		args = append([]string{"status"}, args...)
	}
	if len(args) == 0 {
		fmt.Fprintf(stderr, text, commandName)
		return 2
	}
	cmd, rest := args[0], args[1:]
	if plugin && (cmd == "webhook" || cmd == "checker") {
		fmt.Fprintf(stderr, "%s: %q runs in the cluster; use the ocl-guard binary\n\n"+text, commandName, cmd, commandName)
		return 2
	}
	var code int
	var err error
	switch cmd {
	case "webhook":
		err = runWebhook(rest)
		code = exitCode(err)
	case "checker":
		err = runChecker(rest)
		code = exitCode(err)
	case "check":
		code, err = runCheck(rest, stdout)
	case "status":
		code, err = runStatus(rest, stdout, stderr)
	case "wait":
		code, err = runWait(rest, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprintf(stdout, text, commandName)
		return 0
	default:
		fmt.Fprintf(stderr, "%s: unknown command %q\n\n"+text, commandName, cmd, commandName)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0 // -h: the flag package has printed the usage
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s %s: %v\n", commandName, cmd, err)
	}
	return code
}

func exitCode(err error) int {
	if err != nil {
		return 1
	}
	return 0
}

// isPoolName tells a pool name ("kubectl ocl-guard worker") from a subcommand.
func isPoolName(arg string) bool {
	switch arg {
	case "status", "check", "wait", "help", "webhook", "checker":
		return false
	}
	return !strings.HasPrefix(arg, "-")
}
