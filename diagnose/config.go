package diagnose

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	configv1 "github.com/openshift/api/config/v1"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/ocl-guard/ocl-guard/findings"
	"github.com/ocl-guard/ocl-guard/mco"
)

// ConfigLimits are the thresholds of the MachineOSConfig rules.
type ConfigLimits struct {
	// ObserveAfter: a change (new config, spec edit, rebuild request) the MCO has not acted on after this long is
	// reported.
	ObserveAfter time.Duration
}

// DefaultObserveAfter is ConfigLimits.ObserveAfter when unset.
const DefaultObserveAfter = 10 * time.Minute

// ConfigWait is what the MachineOSConfig rules remember between reconciles: when a wait for the MCO started.
type ConfigWait struct {
	// Generation is the metadata.generation the MCO had not observed yet; GenerationSince when it was first seen.
	Generation      int64
	GenerationSince time.Time
	// RebuildSince is when the rebuild annotation was first seen; zero when it is not set.
	RebuildSince time.Time
}

// ConfigSnapshot is everything DiagnoseConfig looks at.
type ConfigSnapshot struct {
	Config *mcfgv1.MachineOSConfig
	// Pool is the MachineOSConfig's pool, nil when it does not exist.
	Pool *mcfgv1.MachineConfigPool
	// CurrentBuild is the build the MCO started last (annotation mco.AnnotationCurrentBuild), nil when none or not found.
	CurrentBuild *mcfgv1.MachineOSBuild
	// Findings are the admission rules' findings on Config (validators.Evaluate), their outcomes decided there.
	Findings findings.List
	// Operator is ClusterOperator machine-config, nil when absent or unreadable.
	Operator *configv1.ClusterOperator
	// BuilderRead says whether the machine-os-builder Deployment could be read; Builder is nil when it does not exist.
	BuilderRead bool
	Builder     *appsv1.Deployment
	// Previous is the ConfigWait DiagnoseConfig returned last time (zero on the first call).
	Previous ConfigWait
	Now      time.Time
	Limits   ConfigLimits
}

// ConfigDiagnosis is DiagnoseConfig's answer.
type ConfigDiagnosis struct {
	Diagnosis
	// Rules are the IDs of the admission rules with errors, whatever the reason; sorted.
	Rules []findings.RuleID
	// Wait is the memory to pass back as ConfigSnapshot.Previous.
	Wait ConfigWait
}

// configView is a snapshot with what the rules derive from it.
type configView struct {
	s       ConfigSnapshot
	name    string
	pool    string
	now     time.Time
	limit   time.Duration
	wait    ConfigWait
	waiting []string  // what the config waits for, for messages
	since   time.Time // when the oldest of those waits started; zero when it waits for nothing
}

// configFinding is what a MachineOSConfig rule says: a finding of the ranked chain.
type configFinding = finding

// configChain is ranked: the MCO's refusals first (nothing else helps until they are fixed), then this config's own
// errors, then the waits, then what is only worth knowing. Every rule runs; up to three others are named after the
// deciding one.
var configChain = chain[*configView]{also: 3, rules: []rule[*configView]{
	{BuilderNotRunning, SeverityError, builderNotRunning},
	{ConfigCheckFailed, SeverityError, func(v *configView) (configFinding, bool) { return configCheck(v, findings.Fail) }},
	{CurrentBuildFailed, SeverityError, currentBuildFailed},
	{PoolDegradedBlocksBuild, SeverityError, poolDegradedBlocksBuild},
	{RebuildNotStarted, SeverityWarning, rebuildNotStarted},
	{GenerationNotObserved, SeverityWarning, generationNotObserved},
	{ConfigCheckFailed, SeverityWarning, func(v *configView) (configFinding, bool) { return configCheck(v, findings.Warn) }},
	{PoolPaused, SeverityInfo, poolPaused},
}}

// DiagnoseConfig diagnoses a MachineOSConfig: the admission rules' findings, and why the MCO does not build it.
func DiagnoseConfig(s ConfigSnapshot) ConfigDiagnosis {
	if s.Config == nil {
		return ConfigDiagnosis{}
	}
	v := newConfigView(s)
	return ConfigDiagnosis{Diagnosis: configChain.evaluate(v).Diagnosis, Rules: s.Findings.ErringRules(), Wait: v.wait}
}

func newConfigView(s ConfigSnapshot) *configView {
	c := s.Config
	v := &configView{s: s, name: c.Name, pool: c.Spec.MachineConfigPool.Name, now: s.Now.UTC().Truncate(time.Second),
		limit: limitOr(s.Limits.ObserveAfter, DefaultObserveAfter)}
	if c.Generation > c.Status.ObservedGeneration {
		v.wait.Generation = c.Generation
		switch {
		case s.Previous.Generation == c.Generation && !s.Previous.GenerationSince.IsZero():
			v.wait.GenerationSince = s.Previous.GenerationSince
		case c.Status.ObservedGeneration == 0 && !c.CreationTimestamp.IsZero():
			v.wait.GenerationSince = c.CreationTimestamp.UTC() // a new config: waiting since it was created
		default:
			v.wait.GenerationSince = v.now
		}
		what := fmt.Sprintf("generation %d (status.observedGeneration %d)", c.Generation, c.Status.ObservedGeneration)
		if c.Annotations[mco.AnnotationCurrentBuild] == "" {
			what = "its first build"
		}
		v.addWait(what, v.wait.GenerationSince)
	}
	if _, ok := c.Annotations[mco.AnnotationRebuild]; ok {
		v.wait.RebuildSince = v.now
		if !s.Previous.RebuildSince.IsZero() {
			v.wait.RebuildSince = s.Previous.RebuildSince
		}
		v.addWait("the rebuild it was asked for", v.wait.RebuildSince)
	}
	return v
}

func (v *configView) addWait(what string, since time.Time) {
	v.waiting = append(v.waiting, what)
	if v.since.IsZero() || since.Before(v.since) {
		v.since = since
	}
}

// waitedTooLong reports whether a wait that started at since has passed the limit.
func (v *configView) waitedTooLong(since time.Time) bool {
	return !since.IsZero() && v.now.Sub(since) > v.limit
}

func (v *configView) subject() string { return "MachineOSConfig " + v.name }

func (v *configView) builderLogCmd() string {
	return fmt.Sprintf("oc logs -n %s deployment/%s", mco.Namespace, mco.BuilderDeployment)
}

// builderHints turn the operator's refusal (pkg/controller/build/helpers.go ValidateOnClusterBuildConfig,
// pkg/operator/sync.go validateLayeredPoolNodes) into the fix.
var builderHints = []struct{ contains, fix string }{
	{"Did you use the right secret name?", "create the secret it names in " + mco.Namespace + " or correct the secret name in the MachineOSConfig"},
	{"could not validate renderdImagePushspec", "correct spec.renderedImagePushSpec so that it parses as an image reference"},
	{"non-CoreOS OS", "move the non-CoreOS (e.g. RHEL) nodes out of the layered pool: On-Cluster Layering supports only CoreOS nodes"},
	{"missing, did you create it?", "create the MachineOSConfig for that pool, or remove the pool's layering"},
	{"no MachineConfigPool named", "create the pool or correct spec.machineConfigPool.name"},
	{"could not validate", "correct the secret it names: it must be a valid kubernetes.io/dockerconfigjson or dockercfg secret"},
}

func builderNotRunning(v *configView) (configFinding, bool) {
	down, state := v.builderDown()
	if c := v.operatorRefusal(); c != nil && (down || v.mentionsThis(c.Message)) {
		fix := "fix what it says; the operator then deploys it"
		for _, h := range builderHints {
			if strings.Contains(c.Message, h.contains) {
				fix = h.fix
				break
			}
		}
		return configFinding{
			message: fmt.Sprintf("%s: the MCO refuses to run its build controller (%s), so no build starts: ClusterOperator %s is Degraded (%s); %s; see oc get clusteroperator %s -o yaml",
				v.subject(), mco.BuilderDeployment, mco.OperatorName, mco.BuilderFailedReason, fix, mco.OperatorName),
			evidence: fmt.Sprintf("ClusterOperator %s Degraded=True %s: %s", mco.OperatorName, mco.BuilderFailedReason, c.Message),
		}, true
	}
	if !down || !v.waitedTooLong(v.since) {
		return configFinding{}, false
	}
	return configFinding{
		message: fmt.Sprintf("%s: waiting %s for %s, and the MCO's build controller is not running (Deployment %s/%s: %s); check oc get clusteroperator %s and oc logs -n %s deployment/machine-config-operator",
			v.subject(), humanDuration(v.now.Sub(v.since)), strings.Join(v.waiting, " and "), mco.Namespace, mco.BuilderDeployment, state, mco.OperatorName, mco.Namespace),
		evidence: fmt.Sprintf("Deployment %s/%s: %s", mco.Namespace, mco.BuilderDeployment, state),
	}, true
}

// builderDown reports whether the machine-os-builder Deployment is known to be absent or without an available pod.
func (v *configView) builderDown() (bool, string) {
	if !v.s.BuilderRead {
		return false, ""
	}
	d := v.s.Builder
	if d == nil {
		return true, "not found"
	}
	if d.Status.AvailableReplicas > 0 {
		return false, ""
	}
	state := fmt.Sprintf("%d of %d replicas available", d.Status.AvailableReplicas, d.Status.Replicas)
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentAvailable && c.Status != corev1.ConditionTrue {
			state += fmt.Sprintf(", Available=%s %s", c.Status, conditionText(c.Reason, c.Message))
		}
	}
	return true, state
}

// operatorRefusal returns the operator's Degraded condition when it is the MachineOSBuilder sync that failed.
func (v *configView) operatorRefusal() *configv1.ClusterOperatorStatusCondition {
	if v.s.Operator == nil {
		return nil
	}
	for i := range v.s.Operator.Status.Conditions {
		c := &v.s.Operator.Status.Conditions[i]
		if c.Type == configv1.OperatorDegraded && c.Status == configv1.ConditionTrue && c.Reason == mco.BuilderFailedReason {
			return c
		}
	}
	return nil
}

// mentionsThis reports whether an operator message names this MachineOSConfig or its pool, as the MCO's messages
// do: "for MachineOSConfig worker", "for pool worker", `MachineConfigPool(s) ["worker"]`.
func (v *configView) mentionsThis(msg string) bool {
	end := `(?:[^a-z0-9.-]|$)`
	re := regexp.MustCompile(`(?:MachineOSConfig |pool |named )` + regexp.QuoteMeta(v.name) + end + `|"` + regexp.QuoteMeta(v.pool) + `"|(?:pool |named )` + regexp.QuoteMeta(v.pool) + end)
	return re.MatchString(msg)
}

func configCheck(v *configView, outcome findings.Outcome) (configFinding, bool) {
	var lines []string
	for _, f := range v.s.Findings.With(outcome) {
		if f.IsError() {
			lines = append(lines, f.DenialText())
		}
	}
	if len(lines) == 0 {
		return configFinding{}, false
	}
	outlook := "a build of it would fail"
	if outcome != findings.Fail {
		outlook = "a build of it may fail"
	}
	return configFinding{message: fmt.Sprintf("%s: %s: %s", v.subject(), outlook, strings.Join(lines, "; "))}, true
}

func currentBuildFailed(v *configView) (configFinding, bool) {
	b := v.s.CurrentBuild
	if b == nil {
		return configFinding{}, false
	}
	if phase, _ := mco.PhaseOf(b, nil); phase != mco.PhaseFailed {
		return configFinding{}, false
	}
	running := "the pool has no built image yet"
	if img := v.s.Config.Status.CurrentImagePullSpec; img != "" {
		running = "the pool's nodes keep the previous image " + string(img)
	}
	evidence := "MachineOSBuild " + b.Name + " Failed=True"
	if c := mco.ConditionTrue(b.Status.Conditions, mcfgv1.MachineOSBuildFailed); c != nil {
		evidence += " " + conditionText(c.Reason, c.Message)
	}
	return configFinding{
		message: fmt.Sprintf("%s: its current build, MachineOSBuild %s, failed; %s; the cause is on the build (annotation ocl-guard.io/diagnosis): oc describe machineosbuild %s",
			v.subject(), b.Name, running, b.Name),
		evidence: evidence,
	}, true
}

// nonBuildDegraded are the pool conditions that stop the MCO from creating builds
// (pkg/controller/build/reconciler.go shouldPreventBuildDueToDegradation).
var nonBuildDegraded = []mcfgv1.MachineConfigPoolConditionType{
	mcfgv1.MachineConfigPoolNodeDegraded, mcfgv1.MachineConfigPoolRenderDegraded,
	mcfgv1.MachineConfigPoolPinnedImageSetsDegraded, mcfgv1.MachineConfigPoolSynchronizerDegraded,
}

func poolDegradedBlocksBuild(v *configView) (configFinding, bool) {
	if v.s.Pool == nil || len(v.waiting) == 0 {
		return configFinding{}, false
	}
	for _, t := range nonBuildDegraded {
		c := mco.PoolCondition(v.s.Pool, t)
		if c == nil {
			continue
		}
		return configFinding{
			message: fmt.Sprintf("%s: waiting for %s, but the MCO creates no build while pool %s is %s (\"MachineConfigPool %s is degraded due to non-build issues\"); fix that first: oc describe mcp %s",
				v.subject(), strings.Join(v.waiting, " and "), v.pool, t, v.pool, v.pool),
			evidence: fmt.Sprintf("pool %s %s=True %s", v.pool, t, conditionText(c.Reason, c.Message)),
		}, true
	}
	return configFinding{}, false
}

func rebuildNotStarted(v *configView) (configFinding, bool) {
	since := v.wait.RebuildSince
	if !v.waitedTooLong(since) {
		return configFinding{}, false
	}
	current := v.s.Config.Annotations[mco.AnnotationCurrentBuild]
	why := fmt.Sprintf("the MCO normally deletes MachineOSBuild %s and starts a new one within seconds", current)
	if current == "" {
		why = fmt.Sprintf("the MCO ignores it while the MachineOSConfig has no %s annotation (no build yet)", mco.AnnotationCurrentBuild)
	}
	return configFinding{
		message: fmt.Sprintf("%s: annotation %s set %s ago and no new build has started; %s; read the build controller's log: %s",
			v.subject(), mco.AnnotationRebuild, humanDuration(v.now.Sub(since)), why, v.builderLogCmd()),
		evidence: fmt.Sprintf("%s present since %s; %s=%q", mco.AnnotationRebuild, since.Format(time.RFC3339), mco.AnnotationCurrentBuild, current),
	}, true
}

func generationNotObserved(v *configView) (configFinding, bool) {
	since := v.wait.GenerationSince
	if v.wait.Generation == 0 || !v.waitedTooLong(since) {
		return configFinding{}, false
	}
	c := v.s.Config
	what := fmt.Sprintf("spec change (generation %d) not picked up by the MCO after %s", c.Generation, humanDuration(v.now.Sub(since)))
	if c.Annotations[mco.AnnotationCurrentBuild] == "" {
		what = fmt.Sprintf("no build started %s after the MachineOSConfig was created", humanDuration(v.now.Sub(since)))
	}
	return configFinding{
		message:  fmt.Sprintf("%s: %s; read the build controller's log: %s", v.subject(), what, v.builderLogCmd()),
		evidence: fmt.Sprintf("metadata.generation %d, status.observedGeneration %d, waiting since %s", c.Generation, c.Status.ObservedGeneration, since.Format(time.RFC3339)),
	}, true
}

func poolPaused(v *configView) (configFinding, bool) {
	p := v.s.Pool
	if p == nil || !p.Spec.Paused {
		return configFinding{}, false
	}
	c := v.s.Config
	current := c.Annotations[mco.AnnotationCurrentBuild]
	newer := current != "" && (c.Status.MachineOSBuild == nil || c.Status.MachineOSBuild.Name != current)
	if len(v.waiting) == 0 && !newer {
		return configFinding{}, false
	}
	return configFinding{
		message: fmt.Sprintf("%s: pool %s is paused: the MCO still builds, but rolls no new image out to its nodes until it is unpaused: oc patch mcp %s --type merge -p '{\"spec\":{\"paused\":false}}'",
			v.subject(), v.pool, v.pool),
		evidence: fmt.Sprintf("pool %s spec.paused=true; %s=%q", v.pool, mco.AnnotationCurrentBuild, current),
	}, true
}

// RecheckIn returns how long until a wait of d passes its limit, for the checker's requeue; 0 when none is pending.
func (d ConfigDiagnosis) RecheckIn(now time.Time, limits ConfigLimits) time.Duration {
	limit := limitOr(limits.ObserveAfter, DefaultObserveAfter)
	var next time.Duration
	for _, since := range []time.Time{d.Wait.GenerationSince, d.Wait.RebuildSince} {
		if since.IsZero() {
			continue
		}
		if left := since.Add(limit).Sub(now) + time.Second; left > 0 && (next == 0 || left < next) {
			next = left
		}
	}
	return next
}
