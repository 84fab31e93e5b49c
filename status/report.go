// Package status is `ocl-guard status`: one report per layered pool through the three stages of On-Cluster
// Layering (the MachineOSConfig, its current build, the rollout to the nodes) and the one next thing to do. It runs
// the gatherers the checker runs (gather/) and the diagnose/ rules on a live snapshot, with the installed checker's
// settings (ClusterSettings), so it says what the checker writes, whether or not the checker is deployed.
package status

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ocl-guard/ocl-guard/diagnose"
	"github.com/ocl-guard/ocl-guard/findings"
	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/validators"
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
	// Findings are what the admission rules found, each once, the most serious first; rules that pass are left out.
	Findings []Finding `json:"findings,omitempty"`
	// Rules are the IDs of the rules with errors, as in the checker's ocl-guard.io/rules annotation.
	Rules     []validators.RuleID `json:"rules,omitempty"`
	Diagnosis *Diagnosis          `json:"diagnosis,omitempty"`
}

// Finding is one finding of an admission rule, printed as Text.
type Finding struct {
	Outcome findings.Outcome  `json:"outcome"`
	Rule    validators.RuleID `json:"rule"`
	Field   string            `json:"field,omitempty"`
	Message string            `json:"message"`
}

// Text is the finding as every face prints it, "[rule-id] field: message" (findings.Finding.Text).
func (f Finding) Text() string {
	return findings.Finding{Rule: f.Rule, Field: f.Field, Message: f.Message}.Text()
}

// ruleFindings is the one place that reads the admission rules' verdict: every error and warning once, with its
// outcome, the most serious first (in rule order within an outcome).
func ruleFindings(found findings.List) []Finding {
	var out []Finding
	for _, o := range []findings.Outcome{findings.Fail, findings.Warn, findings.Info, findings.Skip} {
		for _, f := range found.With(o) {
			out = append(out, Finding{Outcome: f.Outcome, Rule: f.Rule, Field: f.Field, Message: f.Message})
		}
	}
	return out
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
	r.Next = next(s, r)
	return r
}

func configStage(s diagnose.ConfigSnapshot) ConfigStage {
	d := diagnose.DiagnoseConfig(s)
	return ConfigStage{Name: s.Config.Name, Findings: ruleFindings(s.Findings), Rules: d.Rules, Diagnosis: fromDiagnosis(d.Diagnosis)}
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

// next picks the fix of the most upstream problem of the most serious level: a stage's failure usually causes the
// later stages' (a missing secret fails the build, a failed build blocks the rollout), so upstream comes first, and
// the MachineOSConfig's "its build failed" points at the build, whose diagnosis says why. But an Error anywhere comes
// before a Warning upstream: a registry the probe could not reach must not hide the build that failed.
//
// With no diagnosis, what is left is what `ocl-guard wait` decides: the same decision (decide, for a rollout), so
// that status never says "nothing to do" while wait still waits. A single look has no start of a wait: it is taken
// on the current build, so that a generation the MCO has not observed yet reads as waiting.
func next(s Snapshots, r Report) string {
	config := r.Config.Diagnosis
	var build *Diagnosis
	if r.Build != nil {
		build = r.Build.Diagnosis
	}
	upstream := []*Diagnosis{config, build, r.Rollout.Diagnosis}
	if config != nil && config.Reason == diagnose.CurrentBuildFailed {
		upstream = []*Diagnosis{build, config, r.Rollout.Diagnosis}
	}
	for _, severity := range []diagnose.Severity{diagnose.SeverityError, diagnose.SeverityWarning, diagnose.SeverityInfo} {
		for _, d := range upstream {
			switch {
			case d == nil || d.Severity != severity:
			case d == config:
				return r.Config.summary() // Info: worth knowing
			default:
				return d.Message
			}
		}
	}
	switch v := decide(s, r, GoalRollout, mco.CurrentBuildName(s.Config.Config)); v.Outcome {
	case Waiting:
		return "wait: " + v.Why
	case Done:
		return "nothing to do"
	default: // Failed: a terminal build without an Error diagnosis, which the MCO will not change
		return v.Why
	}
}

// summary is the config's diagnosis in a line that does not repeat the findings: ConfigCheckFailed's message quotes
// every failing rule's errors, which the findings above it already show, so it names those rules instead.
func (c ConfigStage) summary() string {
	d := c.Diagnosis
	if d.Reason != diagnose.ConfigCheckFailed {
		return d.Message
	}
	outcome, outlook := findings.Warn, "may"
	if d.Severity == diagnose.SeverityError {
		outcome, outlook = findings.Fail, "would"
	}
	var rules []string
	for _, id := range c.Rules {
		if slices.ContainsFunc(c.Findings, func(f Finding) bool { return f.Rule == id && f.Outcome == outcome }) {
			rules = append(rules, "["+string(id)+"]")
		}
	}
	return fmt.Sprintf("MachineOSConfig %s: a build of it %s fail: fix the %s findings of %s above", c.Name, outlook, outcome, strings.Join(rules, ", "))
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
