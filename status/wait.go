package status

import (
	"context"
	"errors"
	"fmt"
	"io"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"

	"github.com/ocl-guard/ocl-guard/diagnose"
	"github.com/ocl-guard/ocl-guard/mco"
)

// Goal is what `ocl-guard wait` waits for.
type Goal string

const (
	// GoalBuild is reached when the current build succeeded with a digested image.
	GoalBuild Goal = "build"
	// GoalRollout is reached when every node of the pool runs the current build's image.
	GoalRollout Goal = "rollout"
)

// ParseGoal reads --for.
func ParseGoal(s string) (Goal, error) {
	switch g := Goal(s); g {
	case GoalBuild, GoalRollout:
		return g, nil
	}
	return "", fmt.Errorf("--for %q: use build or rollout", s)
}

// Outcome is where a wait stands.
type Outcome string

const (
	Waiting Outcome = "waiting"
	Done    Outcome = "done"
	Failed  Outcome = "failed"
)

// Verdict is the decision on one pool at one moment.
type Verdict struct {
	Outcome Outcome
	// Why is one line: what is awaited, what was reached, or what failed.
	Why string
	// Diagnosis is the Error diagnosis a failure stands on, as status prints it (nil unless Failed).
	Diagnosis *Diagnosis
}

// Decide judges one pool's snapshots for a wait: done, failed (on an Error diagnosis of the build or, for a
// rollout, of the rollout: a node degraded or the build failed) or still waiting. It is pure: the same snapshots
// give the same verdict, so it is table-tested and the watch only feeds it.
//
// It never says done on the image of an earlier build: right after `oc apply`, the MCO may not have acted yet.
//   - A MachineOSConfig whose metadata.generation is ahead of status.observedGeneration has not been seen by the MCO,
//     unless its current build changed since the wait began (startedOn: the current build's name then). The MCO
//     sets the current-machine-os-build annotation to the new build when it starts one (openshift/machine-config-operator
//     pkg/controller/build/reconciler.go updateMachineOSConfigStatus); current MCOs set observedGeneration right
//     after, older ones only with status.currentImagePullSpec once a build succeeded, so on those a failed build
//     never catches the generation up: without the annotation's change, the wait would last until its timeout.
//   - A build of another rendered config than the pool's is not the current one either: the MCO names the pool's
//     spec.configuration in the MachineOSBuild's spec.machineConfig (pkg/controller/build/buildrequest/
//     machineosbuild.go) and starts a new build when it changes (reconciler.go, "Rendered config for pool ...
//     changed").
//   - A pool whose status still says Updated from the previous rollout is not done until its nodes report the new
//     image: every node's currentImage annotation (the machine-config-daemon's) must be the build's image.
func Decide(s Snapshots, goal Goal, startedOn string) Verdict {
	return decide(s, NewReport(s), goal, startedOn)
}

func decide(s Snapshots, r Report, goal Goal, startedOn string) Verdict {
	mosc := s.Config.Config
	if mosc.Status.ObservedGeneration != mosc.Generation && mco.CurrentBuildName(mosc) == startedOn {
		return waiting("the MCO has not acted on generation %d of MachineOSConfig %s yet (observed %d)", mosc.Generation, mosc.Name, mosc.Status.ObservedGeneration)
	}
	if s.Build == nil || s.Build.Build == nil || r.Build == nil {
		if name := mco.CurrentBuildName(mosc); name != "" {
			return waiting("MachineOSBuild %s, the current build of MachineOSConfig %s, does not exist yet", name, mosc.Name)
		}
		return waiting("the MCO has not started a build of MachineOSConfig %s yet", mosc.Name)
	}
	build := s.Build.Build
	if pool := s.Config.Pool; pool != nil && pool.Spec.Configuration.Name != "" && build.Spec.MachineConfig.Name != pool.Spec.Configuration.Name {
		return waiting("MachineOSBuild %s builds %s, pool %s now renders %s: the MCO has not started its build yet",
			build.Name, build.Spec.MachineConfig.Name, pool.Name, pool.Spec.Configuration.Name)
	}
	phase, _ := mco.PhaseOf(build, s.Build.Job)
	if d := r.Build.Diagnosis; d != nil && d.Severity == diagnose.SeverityError {
		return failed(d, "MachineOSBuild %s is %s", build.Name, phase)
	}
	switch phase {
	case mco.PhaseFailed, mco.PhaseInterrupted:
		// A terminal build without an Error diagnosis still ends the wait: the MCO will not change it.
		return failed(r.Build.Diagnosis, "MachineOSBuild %s is %s", build.Name, phase)
	case mco.PhasePending, mco.PhaseBuilding:
		return waiting("MachineOSBuild %s is %s", build.Name, phase)
	}
	image := string(build.Status.DigestedImagePushSpec)
	if image == "" {
		return waiting("MachineOSBuild %s succeeded; the MCO has not recorded its digested image yet", build.Name)
	}
	if goal == GoalBuild {
		return Verdict{Outcome: Done, Why: fmt.Sprintf("MachineOSBuild %s succeeded: %s", build.Name, image)}
	}
	if d := r.Rollout.Diagnosis; d != nil && d.Severity == diagnose.SeverityError {
		return failed(d, "the rollout of %s to pool %s failed", image, r.Pool)
	}
	if current := string(mosc.Status.CurrentImagePullSpec); current != image {
		return waiting("MachineOSConfig %s does not point at %s yet (currentImagePullSpec %q)", mosc.Name, image, current)
	}
	pool := s.Pool.Pool
	if pool == nil {
		return waiting("pool %s does not exist", r.Pool)
	}
	// The nodes' own word, not the pool's counts, which still describe the previous rollout for a moment. The
	// lagging node named is the first by name: the nodes come from a cache, in no order.
	updated, lagging := 0, ""
	for _, n := range s.Pool.Nodes {
		if n.Annotations[mco.AnnotationCurrentImage] == image {
			updated++
		} else if lagging == "" || n.Name < lagging {
			lagging = n.Name
		}
	}
	if lagging != "" {
		return waiting("%d/%d nodes updated: node %s does not run %s yet", updated, len(s.Pool.Nodes), lagging, image)
	}
	if mco.PoolCondition(pool, mcfgv1.MachineConfigPoolUpdated) == nil || pool.Status.UpdatedMachineCount != pool.Status.MachineCount {
		return waiting("%d/%d nodes updated: pool %s is not Updated yet", pool.Status.UpdatedMachineCount, pool.Status.MachineCount, pool.Name)
	}
	return Verdict{Outcome: Done, Why: fmt.Sprintf("pool %s: %d/%d nodes run %s", pool.Name, pool.Status.UpdatedMachineCount, pool.Status.MachineCount, image)}
}

func waiting(format string, args ...any) Verdict {
	return Verdict{Outcome: Waiting, Why: fmt.Sprintf(format, args...)}
}

func failed(d *Diagnosis, format string, args ...any) Verdict {
	v := Verdict{Outcome: Failed, Why: fmt.Sprintf(format, args...), Diagnosis: d}
	if d != nil {
		v.Why += ": " + d.Message
	}
	return v
}

// Exit codes of `ocl-guard wait`.
const (
	ExitDone    = 0
	ExitFailed  = 1
	ExitTimeout = 2
	// ExitUsage is for bad flags and for what keeps the wait from starting (no cluster, a pool that is not layered):
	// status's 2 is taken by the timeout, which a pipeline must tell apart from a failure and from a mistake.
	ExitUsage = 3
)

// Wait follows opts.Pool with w until Decide says done or failed, and returns that verdict; it writes the stages'
// changes and the wait's own progress to progress, one line each (LineLog). It returns ctx's error when ctx ends
// first (a timeout), with the last verdict, so that the caller can say what was still awaited.
func Wait(ctx context.Context, w *Watcher, opts WatchOptions, goal Goal, progress io.Writer) (Verdict, Report, error) {
	if opts.Pool == "" {
		return Verdict{}, Report{}, errors.New("a wait is for one pool: set Options.Pool")
	}
	log := LineLog{W: progress}
	var verdict Verdict
	var report Report
	var writeErr error
	var startedOn *string // the current build when the wait began (decide)
	err := w.Run(ctx, opts, func(pools []Snapshots) bool {
		if len(pools) != 1 {
			return false // Run was asked for one pool: CollectSnapshots returns it or NotLayeredError
		}
		if startedOn == nil {
			name := mco.CurrentBuildName(pools[0].Config.Config)
			startedOn = &name
		}
		report = NewReport(pools[0])
		verdict = decide(pools[0], report, goal, *startedOn)
		now := pools[0].Config.Now
		writeErr = errors.Join(log.Write([]Report{report}, now), log.Note(now, report.Pool, "wait", string(verdict.Outcome)+": "+verdict.Why))
		return verdict.Outcome != Waiting || writeErr != nil
	})
	if err == nil {
		err = writeErr
	}
	return verdict, report, err
}
