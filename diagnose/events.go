package diagnose

import (
	"sort"
	"time"

	"github.com/ocl-guard/ocl-guard/mco"
)

// Event is an Event recorded about a MachineOSBuild or its MachineOSConfig, as the checker gathered it.
type Event struct {
	// Kind and Name are the object the Event is about (involvedObject / regarding).
	Kind, Name string
	// Type is Normal or Warning.
	Type, Reason, Message string
	Time                  time.Time
}

func (e Event) String() string {
	return "Event " + e.Reason + " on " + e.Kind + " " + e.Name + ": " + e.Message
}

// The reasons of the Warning Events the MCO's build controller (5.0+) records: on the MachineOSBuild BuildFailed,
// JobFailed and BuildInterrupted; on the MachineOSConfig ConfigReconcileFailed ("Failed to reconcile MachineOSConfig
// spec change: %v") and BuildDegraded (openshift/machine-config-operator pkg/controller/build/ocl_events.go). They
// are core/v1 Events of cluster-scoped objects, so they live in namespace "default".
var mcoWarningReasons = map[string]bool{
	"BuildFailed": true, "JobFailed": true, "BuildInterrupted": true, "ConfigReconcileFailed": true, "BuildDegraded": true,
}

// mcoWarnings returns the MCO's Warning Events about the build and its MachineOSConfig, newest first, at most 3.
func (v *buildView) mcoWarnings() []Event {
	var out []Event
	for _, e := range v.s.Events {
		if e.Type != "Warning" || !mcoWarningReasons[e.Reason] {
			continue
		}
		if e.Kind == "MachineOSBuild" && e.Name != v.s.Build.Name || e.Kind == "MachineOSConfig" && e.Name != v.mosc {
			continue
		}
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.After(out[j].Time) })
	if len(out) > 3 {
		out = out[:3]
	}
	return out
}

// NeedsEvents reports whether the rules would read BuildSnapshot.Events: only those about failed builds do, so the
// checker need not list Events for the builds it rechecks while they run.
func NeedsEvents(s BuildSnapshot) bool {
	if s.Build == nil {
		return false
	}
	phase, _ := mco.PhaseOf(s.Build, s.Job)
	return phase == mco.PhaseFailed
}
