// Command ocl-guard validates OpenShift On-Cluster Layering configurations and diagnoses their builds and
// rollouts. Subcommands: webhook (admission for MachineOSConfig), checker (diagnosis controller), check (the
// admission rules on manifests or a live cluster).
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
)

const usage = `ocl-guard stops broken On-Cluster Layering configurations before they fail.

Usage:
  ocl-guard webhook [flags]   serve the MachineOSConfig validating webhook
  ocl-guard checker [flags]   diagnose builds and rollouts; write the diagnosis onto builds, pools and configs
  ocl-guard check [flags]     the admission rules on manifests (-f, for CI) or on the cluster (--live)
  ocl-guard help              show this text

Run "ocl-guard <command> -h" for a command's flags.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "webhook":
		err = runWebhook(args)
	case "checker":
		err = runChecker(args)
	case "check":
		var code int
		code, err = runCheck(args, os.Stdout)
		if err == nil {
			os.Exit(code)
		}
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0) // the flag package has printed the usage
		}
		fmt.Fprintf(os.Stderr, "ocl-guard check: %v\n", err)
		os.Exit(code)
	case "help", "-h", "--help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "ocl-guard: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	if errors.Is(err, flag.ErrHelp) {
		return // -h: the flag package has printed the usage
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "ocl-guard %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}
