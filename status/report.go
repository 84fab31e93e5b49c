// Package status is `ocl-guard status`: one report per layered pool through the three stages of On-Cluster
// Layering (the MachineOSConfig, its current build, the rollout to the nodes) and the one next thing to do. It runs
// the checker's gatherers and the diagnose/ rules on a live snapshot, so it says what the checker would write,
// whether or not the checker is deployed.
package status

import (
	"time"

	"github.com/ocl-guard/ocl-guard/diagnose"
	"github.com/ocl-guard/ocl-guard/findings"
	"github.com/ocl-guard/ocl-guard/mco"
)

// Report is one layered pool.
type Report struct {
	Pool    string       `json:"pool"`
	Healthy bool         `json:"healthy"`
	Config  ConfigStage  `json:"config"`
	Build   *BuildStage  `json:"build,omitempty"`
	Rollout RolloutStage `json:"rollout"`
	// Next is the single next thing to do: the fix of the most upstream problem, or what to wait for.
	Next string `json:"next"`
}

// Diagnosis is a diagnose.Diagnosis as printed.
type Diagnosis struct {
	Reason   diagnose.Reason   `json:"reason"`
	Severity diagnose.Severity `json:"severity"`
	Message  string            `json:"message"`
	Evidence string            `json:"evidence,omitempty"`
}

// ConfigStage is stage 1: the MachineOSConfig, the admission rules' findings on it, and why nothing is built.
type ConfigStage struct {
	Name string `json:"name"`
	// Findings are the rules' findings that are not a pass, each once, in rule order.
	Findings  []Finding  `json:"findings,omitempty"`
	Diagnosis *Diagnosis `json:"diagnosis,omitempty"`
}

// Finding is one finding of an admission rule, as validators.Evaluate decided it.
type Finding struct {
	Rule    findings.RuleID  `json:"rule"`
	Outcome findings.Outcome `json:"outcome"`
	Field   string           `json:"field,omitempty"`
	Message string           `json:"message"`
	// Text is the one-line rendering, "[rule] field: message".
	Text string `json:"-"`
}

// BuildStage is stage 2: the MachineOSConfig's current build.
type BuildStage struct {
	Name  string `json:"name"`
	Phase string `json:"phase"`
	// Started and Duration: from status.buildStart to buildEnd, or to now while it runs.
	Started   *time.Time `json:"started,omitempty"`
	Duration  string     `json:"duration,omitempty"`
	Image     string     `json:"image,omitempty"`
	Diagnosis *Diagnosis `json:"diagnosis,omitempty"`
}

// RolloutStage is stage 3: the image the nodes should run and how many do.
type RolloutStage struct {
	Image     string        `json:"image,omitempty"`
	Updated   int32         `json:"updated"`
	Total     int32         `json:"total"`
	Problems  []NodeProblem `json:"problems,omitempty"`
	Diagnosis *Diagnosis    `json:"diagnosis,omitempty"`
}

// NodeProblem is the nodes with one problem.
type NodeProblem struct {
	Reason diagnose.Reason `json:"reason"`
	Nodes  []string        `json:"nodes"`
	Detail string          `json:"detail,omitempty"`
}

// Snapshots are the three stages' inputs for one pool; Build is nil when the config has no current build.
type Snapshots struct {
	Config diagnose.ConfigSnapshot
	Build  *diagnose.BuildSnapshot
	Pool   diagnose.PoolSnapshot
}

// NewReport runs the diagnoses on one pool's snapshots. It is pure: the same snapshots give the same report.
func NewReport(s Snapshots) Report {
	r := Report{Pool: s.Config.Config.Spec.MachineConfigPool.Name, Config: configStage(s.Config)}
	if s.Build != nil && s.Build.Build != nil {
		r.Build = buildStage(*s.Build)
	}
	r.Rollout = rolloutStage(s.Pool)
	r.Healthy = !problem(r.Config.Diagnosis) && (r.Build == nil || !problem(r.Build.Diagnosis)) && !problem(r.Rollout.Diagnosis)
	r.Next = next(r)
	return r
}

func configStage(s diagnose.ConfigSnapshot) ConfigStage {
	st := ConfigStage{Name: s.Config.Name}
	for _, f := range s.Findings.With(findings.Fail, findings.Warn, findings.Info, findings.Skip) {
		st.Findings = append(st.Findings, Finding{Rule: f.Rule, Outcome: f.Outcome, Field: f.Field, Message: f.Message, Text: f.Text()})
	}
	st.Diagnosis = fromDiagnosis(diagnose.DiagnoseConfig(s).Diagnosis)
	return st
}

func buildStage(s diagnose.BuildSnapshot) *BuildStage {
	b := s.Build
	phase, _ := mco.PhaseOf(b, s.Job)
	st := &BuildStage{Name: b.Name, Phase: phase.String(), Image: string(b.Status.DigestedImagePushSpec)}
	if start := b.Status.BuildStart; start != nil && !start.IsZero() {
		t := start.UTC()
		st.Started = &t
		end := s.Now
		if b.Status.BuildEnd != nil && !b.Status.BuildEnd.IsZero() {
			end = b.Status.BuildEnd.Time
		}
		st.Duration = end.Sub(t).Round(time.Second).String()
	}
	st.Diagnosis = fromDiagnosis(diagnose.DiagnoseBuild(s))
	return st
}

func rolloutStage(s diagnose.PoolSnapshot) RolloutStage {
	var st RolloutStage
	if s.Pool == nil {
		return st
	}
	st.Updated, st.Total = s.Pool.Status.UpdatedMachineCount, s.Pool.Status.MachineCount
	if s.Config != nil {
		st.Image = string(s.Config.Status.CurrentImagePullSpec)
	}
	for _, p := range diagnose.NodeProblems(s) {
		st.Problems = append(st.Problems, NodeProblem{Reason: p.Reason, Nodes: p.Nodes, Detail: p.Detail})
	}
	d, _ := diagnose.DiagnosePool(s)
	st.Diagnosis = fromDiagnosis(d)
	return st
}

func fromDiagnosis(d diagnose.Diagnosis) *Diagnosis {
	if d.Healthy() {
		return nil
	}
	return &Diagnosis{Reason: d.Reason, Severity: d.Severity, Message: d.Message, Evidence: d.Evidence}
}

// problem reports whether a diagnosis needs someone to act (Info does not).
func problem(d *Diagnosis) bool { return d != nil && d.Severity != diagnose.SeverityInfo }

// next picks the most upstream problem: a stage's failure usually causes the later stages' (a missing secret fails
// the build, a failed build blocks the rollout), and the MachineOSConfig's "its build failed" points at the build.
func next(r Report) string {
	config := r.Config.Diagnosis
	if problem(config) && config.Reason != diagnose.CurrentBuildFailed {
		return config.Message
	}
	if r.Build != nil && problem(r.Build.Diagnosis) {
		return r.Build.Diagnosis.Message
	}
	if problem(config) {
		return config.Message
	}
	if problem(r.Rollout.Diagnosis) {
		return r.Rollout.Diagnosis.Message
	}
	for _, d := range []*Diagnosis{config, r.Rollout.Diagnosis} {
		if d != nil {
			return d.Message // Info: worth knowing
		}
	}
	switch {
	case r.Build == nil:
		return "wait for the MCO to start the first build of MachineOSConfig " + r.Config.Name
	case r.Build.Phase == mco.PhasePending.String() || r.Build.Phase == mco.PhaseBuilding.String():
		return "wait: MachineOSBuild " + r.Build.Name + " is " + r.Build.Phase
	case r.Rollout.Total > 0 && r.Rollout.Updated < r.Rollout.Total:
		return "wait: the rollout is in progress"
	}
	return "nothing to do"
}

// ExitCode is 0 when every pool is healthy and 1 when one has a problem.
func ExitCode(reports []Report) int {
	for _, r := range reports {
		if !r.Healthy {
			return 1
		}
	}
	return 0
}
