package diagnose

import (
	"fmt"
	"sort"
	"strings"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ImageBuildContainer is the container that runs buildah (an init container from OCP 4.20, a regular container in
// 4.18–4.19). The MCO sets TerminationMessagePolicy FallbackToLogsOnError on it, so its termination message holds
// the tail of its log when it fails.
const ImageBuildContainer = "image-build"

// BuildLimits are the thresholds of the build rules.
type BuildLimits struct {
	// StuckAfter: a build Building for longer is BuildStuck (the MCO sets no deadline on build Jobs).
	StuckAfter time.Duration
	// PendingAfter: a build pod Pending (or a Job without pod) for longer is BuildPendingTooLong.
	PendingAfter time.Duration
}

// DefaultBuildLimits returns StuckAfter 2h, PendingAfter 15m.
func DefaultBuildLimits() BuildLimits {
	return BuildLimits{StuckAfter: 2 * time.Hour, PendingAfter: 15 * time.Minute}
}

func (l BuildLimits) withDefaults() BuildLimits {
	d := DefaultBuildLimits()
	if l.StuckAfter <= 0 {
		l.StuckAfter = d.StuckAfter
	}
	if l.PendingAfter <= 0 {
		l.PendingAfter = d.PendingAfter
	}
	return l
}

// BuildSnapshot is everything DiagnoseBuild looks at.
type BuildSnapshot struct {
	Build *mcfgv1.MachineOSBuild
	// Config is the build's MachineOSConfig, optional: when set, messages name its secrets.
	Config *mcfgv1.MachineOSConfig
	// Job is the build Job (status.builder.job), nil if not found.
	Job *batchv1.Job
	// Pods are the pods of the build Job, in any order.
	Pods []corev1.Pod
	// Log is a bounded tail of the image-build container's log of the latest failed (or running) pod. The checker
	// reads it only when NeedsLog says so; it may be empty.
	Log string
	// Now is the time of the snapshot.
	Now    time.Time
	Limits BuildLimits
}

type buildPhase uint8

const (
	phasePending buildPhase = iota // Prepared, or no condition yet
	phaseBuilding
	phaseSucceeded
	phaseFailed
	phaseInterrupted
)

func condTrue(conds []metav1.Condition, t mcfgv1.BuildProgress) *metav1.Condition {
	c := apimeta.FindStatusCondition(conds, string(t))
	if c != nil && c.Status == metav1.ConditionTrue {
		return c
	}
	return nil
}

func jobCondition(job *batchv1.Job, t batchv1.JobConditionType) *batchv1.JobCondition {
	if job == nil {
		return nil
	}
	for i := range job.Status.Conditions {
		if c := &job.Status.Conditions[i]; c.Type == t && c.Status == corev1.ConditionTrue {
			return c
		}
	}
	return nil
}

// phaseOf reads the build's phase from its conditions (terminal ones first), with the Job as a fallback for a
// MachineOSBuild the MCO has not updated yet. since is when the phase started.
func phaseOf(s BuildSnapshot) (buildPhase, time.Time) {
	b := s.Build
	conds := b.Status.Conditions
	switch {
	case condTrue(conds, mcfgv1.MachineOSBuildSucceeded) != nil:
		return phaseSucceeded, time.Time{}
	case condTrue(conds, mcfgv1.MachineOSBuildInterrupted) != nil:
		return phaseInterrupted, time.Time{}
	case condTrue(conds, mcfgv1.MachineOSBuildFailed) != nil:
		return phaseFailed, time.Time{}
	case jobCondition(s.Job, batchv1.JobFailed) != nil:
		return phaseFailed, time.Time{}
	case jobCondition(s.Job, batchv1.JobComplete) != nil:
		return phaseSucceeded, time.Time{}
	}
	if c := condTrue(conds, mcfgv1.MachineOSBuilding); c != nil {
		since := c.LastTransitionTime.Time
		if b.Status.BuildStart != nil && !b.Status.BuildStart.IsZero() {
			since = b.Status.BuildStart.Time
		}
		if since.IsZero() {
			since = b.CreationTimestamp.Time
		}
		return phaseBuilding, since
	}
	since := b.CreationTimestamp.Time
	if c := condTrue(conds, mcfgv1.MachineOSBuildPrepared); c != nil && !c.LastTransitionTime.IsZero() {
		since = c.LastTransitionTime.Time
	}
	return phasePending, since
}

// buildCtx carries the names used in messages.
type buildCtx struct {
	s      BuildSnapshot
	lim    BuildLimits
	name   string
	mosc   string
	job    string
	pods   []*corev1.Pod // newest first
	subjID string        // "MachineOSBuild <name>"
}

func newBuildCtx(s BuildSnapshot) *buildCtx {
	b := s.Build
	c := &buildCtx{s: s, lim: s.Limits.withDefaults(), name: b.Name, mosc: b.Spec.MachineOSConfig.Name}
	c.subjID = "MachineOSBuild " + b.Name
	c.job = "build-" + b.Name
	if b.Status.Builder != nil && b.Status.Builder.Job != nil && b.Status.Builder.Job.Name != "" {
		c.job = b.Status.Builder.Job.Name
	} else if s.Job != nil && s.Job.Name != "" {
		c.job = s.Job.Name
	}
	if c.mosc == "" && s.Config != nil {
		c.mosc = s.Config.Name
	}
	c.pods = make([]*corev1.Pod, len(s.Pods))
	for i := range s.Pods {
		c.pods[i] = &s.Pods[i]
	}
	sort.SliceStable(c.pods, func(i, j int) bool {
		ti, tj := c.pods[i].CreationTimestamp.Time, c.pods[j].CreationTimestamp.Time
		if !ti.Equal(tj) {
			return ti.After(tj)
		}
		return c.pods[i].Name > c.pods[j].Name
	})
	return c
}

func (c *buildCtx) logCmd() string {
	return fmt.Sprintf("oc logs -n %s job/%s -c %s", MCONamespace, c.job, ImageBuildContainer)
}

func (c *buildCtx) moscRef() string {
	if c.mosc == "" {
		return "the MachineOSConfig"
	}
	return "MachineOSConfig " + c.mosc
}

// DiagnoseBuild diagnoses one MachineOSBuild. A succeeded build is healthy (Reason "").
func DiagnoseBuild(s BuildSnapshot) Diagnosis {
	if s.Build == nil {
		return Diagnosis{}
	}
	c := newBuildCtx(s)
	phase, since := phaseOf(s)
	switch phase {
	case phaseSucceeded:
		return Diagnosis{}
	case phaseInterrupted:
		return c.interrupted()
	}
	if d, ok := c.builderImagePull(); ok {
		return d
	}
	if phase == phaseFailed {
		return c.failed()
	}
	// Pending or Building: a failed attempt while the Job retries, then a pod that does not start, then a build
	// that does not end.
	if r, _ := c.attemptResult(); r.rank() > 0 {
		d := c.fromScan(r)
		d.Severity = SeverityWarning
		d.Message = cleanMessage(fmt.Sprintf("%s (a build attempt failed; the Job retries up to %d attempts)", d.Message, jobAttempts(s.Job)))
		return d
	}
	if d, ok := c.pending(phase, since); ok {
		return d
	}
	if phase == phaseBuilding && c.stuck(since) {
		return c.buildStuck(since)
	}
	return Diagnosis{}
}

// NeedsLog reports whether the checker should read the image-build log: only for a failed build whose condition
// and termination message gave no specific cause (or only a RUN step failure, whose package or repository error
// may lie above the 2 KiB the kubelet keeps), and for a stuck build.
func NeedsLog(s BuildSnapshot) bool {
	if s.Build == nil {
		return false
	}
	c := newBuildCtx(s)
	phase, since := phaseOf(s)
	switch phase {
	case phaseFailed:
		if _, ok := c.builderImagePull(); ok {
			return false
		}
		r := c.failedResultWithoutLog()
		return r.rank() <= buildRank(clsRunStep)
	case phaseBuilding:
		if _, ok := c.builderImagePull(); ok {
			return false
		}
		if r, _ := c.attemptResult(); r.rank() > 0 {
			return false
		}
		if _, ok := c.pending(phase, since); ok {
			return false
		}
		return c.stuck(since)
	}
	return false
}

func jobAttempts(job *batchv1.Job) int32 {
	if job != nil && job.Spec.BackoffLimit != nil {
		return *job.Spec.BackoffLimit + 1
	}
	return 4
}

func (c *buildCtx) stuck(since time.Time) bool {
	return !since.IsZero() && c.s.Now.Sub(since) > c.lim.StuckAfter
}

func (c *buildCtx) interrupted() Diagnosis {
	ev := ""
	if cond := condTrue(c.s.Build.Status.Conditions, mcfgv1.MachineOSBuildInterrupted); cond != nil {
		ev = conditionText(cond.Reason, cond.Message)
	}
	return newDiagnosis(Interrupted, "", fmt.Sprintf(
		"%s was interrupted (its MachineOSConfig or the pool's rendered config changed, or its Job was deleted); the MCO starts a new build, act only if this repeats", c.subjID), ev)
}

func conditionText(reason, msg string) string {
	switch {
	case reason == "":
		return msg
	case msg == "":
		return reason
	}
	return reason + ": " + msg
}

var pullWaitingReasons = map[string]bool{
	"ErrImagePull": true, "ImagePullBackOff": true, "InvalidImageName": true, "ErrImageNeverPull": true,
	"RegistryUnavailable": true, "SignatureValidationFailed": true,
}

// builderImagePull finds a build pod container that waits on its own image.
func (c *buildCtx) builderImagePull() (Diagnosis, bool) {
	for _, p := range c.pods {
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		for _, list := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
			for i := range list {
				cs := &list[i]
				w := cs.State.Waiting
				if w == nil || !pullWaitingReasons[w.Reason] {
					continue
				}
				img := cs.Image
				if img == "" {
					img = specImage(p, cs.Name)
				}
				cause := pullCause(w.Message)
				what := w.Reason
				if cause != "" {
					what += ", " + cause
				}
				msg := fmt.Sprintf("%s: build pod %s cannot pull the builder image %s for container %s (%s); check the cluster pull secret (openshift-config/pull-secret) and the image mirror sets for %s",
					c.subjID, p.Name, short(img, 200), cs.Name, what, registryHost(img))
				return newDiagnosis(BuilderImagePull, "", msg, conditionText(w.Reason, w.Message)), true
			}
		}
	}
	return Diagnosis{}, false
}

// podStarted reports whether any container of the pod has run.
func podStarted(p *corev1.Pod) bool {
	for _, list := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
		for _, cs := range list {
			if cs.State.Running != nil || cs.State.Terminated != nil || cs.LastTerminationState.Terminated != nil {
				return true
			}
		}
	}
	return false
}

func specImage(p *corev1.Pod, name string) string {
	for _, list := range [][]corev1.Container{p.Spec.InitContainers, p.Spec.Containers} {
		for _, ct := range list {
			if ct.Name == name {
				return ct.Image
			}
		}
	}
	return ""
}

// pending reports a build whose pod has not started (or whose Job has no pod) for longer than PendingAfter.
func (c *buildCtx) pending(phase buildPhase, phaseSince time.Time) (Diagnosis, bool) {
	now, limit := c.s.Now, c.lim.PendingAfter
	if len(c.pods) == 0 {
		if phaseSince.IsZero() || now.Sub(phaseSince) <= limit {
			return Diagnosis{}, false
		}
		ev := fmt.Sprintf("Job %s/%s has no pod", MCONamespace, c.job)
		if c.s.Job == nil {
			ev = fmt.Sprintf("Job %s/%s not found", MCONamespace, c.job)
		} else {
			for _, jc := range c.s.Job.Status.Conditions {
				if jc.Status == corev1.ConditionTrue {
					ev += "; " + string(jc.Type) + ": " + conditionText(jc.Reason, jc.Message)
				}
			}
		}
		msg := fmt.Sprintf("%s has had no build pod for %s (limit %s); check the Job %s and quotas and events in %s",
			c.subjID, humanDuration(now.Sub(phaseSince)), humanDuration(limit), c.job, MCONamespace)
		return newDiagnosis(BuildPendingTooLong, "", msg, ev), true
	}
	p := c.pods[0]
	if p.Status.Phase != corev1.PodPending && p.Status.Phase != "" || podStarted(p) {
		// From 4.20 image-build is an init container: a building pod stays in phase Pending while it runs.
		return Diagnosis{}, false
	}
	var sched *corev1.PodCondition
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == corev1.PodScheduled {
			sched = &p.Status.Conditions[i]
		}
	}
	since := p.CreationTimestamp.Time
	if since.IsZero() && sched != nil {
		since = sched.LastTransitionTime.Time
	}
	if since.IsZero() {
		since = phaseSince
	}
	if since.IsZero() || now.Sub(since) <= limit {
		return Diagnosis{}, false
	}
	age := humanDuration(now.Sub(since))
	if sched != nil && sched.Status != corev1.ConditionTrue {
		msg := fmt.Sprintf("%s: build pod %s has been unschedulable for %s (limit %s): %s; free capacity or fix taints, node selectors and quotas",
			c.subjID, p.Name, age, humanDuration(limit), short(sched.Message, 300))
		return newDiagnosis(BuildPendingTooLong, "", msg, "PodScheduled="+string(sched.Status)+" "+conditionText(sched.Reason, sched.Message)), true
	}
	ev := ""
	for _, list := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
		for _, cs := range list {
			if w := cs.State.Waiting; w != nil && ev == "" {
				ev = "container " + cs.Name + " waiting: " + conditionText(w.Reason, w.Message)
			}
		}
	}
	msg := fmt.Sprintf("%s: build pod %s has been Pending for %s (limit %s) without starting; check its events (oc describe pod -n %s %s), e.g. a missing secret or volume",
		c.subjID, p.Name, age, humanDuration(limit), MCONamespace, p.Name)
	return newDiagnosis(BuildPendingTooLong, "", msg, ev), true
}

func (c *buildCtx) buildStuck(since time.Time) Diagnosis {
	ev := ""
	hint := ""
	if c.s.Log != "" {
		if r := scanLog(c.s.Log); r.rank() > 0 {
			ev = r.evidence
			hint = fmt.Sprintf("; its log shows %s", classReason(r.cls))
		} else {
			ev = lastLines(c.s.Log, 5)
		}
	}
	msg := fmt.Sprintf("%s has been Building for %s (limit %s) and the MCO sets no deadline on build Jobs, so it will not fail on its own%s; read the log (%s) and, to retry, run oc annotate machineosconfig/%s machineconfiguration.openshift.io/rebuild=",
		c.subjID, humanDuration(c.s.Now.Sub(since)), humanDuration(c.lim.StuckAfter), hint, c.logCmd(), c.moscOrPlaceholder())
	return newDiagnosis(BuildStuck, "", msg, ev)
}

func (c *buildCtx) moscOrPlaceholder() string {
	if c.mosc == "" {
		return "<pool>"
	}
	return c.mosc
}

// terminatedContainer is a failed container of a build pod.
type terminatedContainer struct {
	pod  *corev1.Pod
	name string
	t    *corev1.ContainerStateTerminated
}

// failedContainer returns the newest failed image-build container, else any other failed container.
func (c *buildCtx) failedContainer() (terminatedContainer, bool) {
	var other terminatedContainer
	for _, p := range c.pods {
		for _, list := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
			for i := range list {
				cs := &list[i]
				t := cs.State.Terminated
				if t == nil || t.ExitCode == 0 {
					t = cs.LastTerminationState.Terminated
				}
				if t == nil || t.ExitCode == 0 {
					continue
				}
				if cs.Name == ImageBuildContainer {
					return terminatedContainer{p, cs.Name, t}, true
				}
				if other.t == nil {
					other = terminatedContainer{p, cs.Name, t}
				}
			}
		}
	}
	return other, other.t != nil
}

// attemptResult classifies the termination message of the newest failed container.
func (c *buildCtx) attemptResult() (scanResult, terminatedContainer) {
	tc, ok := c.failedContainer()
	if !ok || tc.t.Message == "" {
		return scanResult{}, tc
	}
	return scanLog(tc.t.Message), tc
}

// genericFailed reports whether a Failed condition message carries no information ("Build Failed").
func genericFailed(msg string) bool {
	m := strings.ToLower(strings.Join(strings.Fields(msg), ""))
	return m == "" || m == "buildfailed" || m == "failed"
}

func (c *buildCtx) failedResultWithoutLog() scanResult {
	var best scanResult
	if cond := condTrue(c.s.Build.Status.Conditions, mcfgv1.MachineOSBuildFailed); cond != nil && !genericFailed(cond.Message) {
		best = scanLog(cond.Message)
	}
	if r, _ := c.attemptResult(); r.rank() > best.rank() {
		best = r
	}
	return best
}

func (c *buildCtx) failed() Diagnosis {
	best := c.failedResultWithoutLog()
	if c.s.Log != "" && best.rank() <= buildRank(clsRunStep) {
		if r := scanLog(c.s.Log); r.rank() > best.rank() || r.rank() == best.rank() && r.rank() > 0 && best.step == "" {
			best = r
		}
	}
	if best.rank() > 0 {
		return c.fromScan(best)
	}
	return c.unknown()
}

func (c *buildCtx) unknown() Diagnosis {
	var parts, status []string
	if jc := jobCondition(c.s.Job, batchv1.JobFailed); jc != nil {
		status = append(status, fmt.Sprintf("Job %s: %s", c.job, orDefault(jc.Reason, string(jc.Type))))
	}
	tc, hasTC := c.failedContainer()
	if hasTC {
		status = append(status, fmt.Sprintf("container %s exit code %d (%s)", tc.name, tc.t.ExitCode, orDefault(tc.t.Reason, "terminated")))
	}
	if len(status) > 0 {
		parts = append(parts, strings.Join(status, "; "))
	}
	if cond := condTrue(c.s.Build.Status.Conditions, mcfgv1.MachineOSBuildFailed); cond != nil && !genericFailed(cond.Message) {
		parts = append(parts, conditionText(cond.Reason, cond.Message))
	}
	switch {
	case c.s.Log != "":
		parts = append(parts, lastLines(c.s.Log, 5))
	case hasTC && tc.t.Message != "":
		parts = append(parts, lastLines(tc.t.Message, 5))
	}
	msg := fmt.Sprintf("%s failed with no recognised cause; read the build log (%s)", c.subjID, c.logCmd())
	return newDiagnosis(Unknown, "", msg, strings.Join(parts, "\n"))
}

func classReason(c class) Reason {
	switch c {
	case clsContainerfile:
		return ContainerfileSyntax
	case clsRepo:
		return RepoUnreachable
	case clsPackage:
		return PackageNotFound
	case clsBaseAuth:
		return BaseImagePullAuth
	case clsBaseNotFound:
		return BaseImageNotFound
	case clsPushAuth:
		return PushAuth
	case clsPushDenied:
		return PushDenied
	case clsNetwork:
		return RegistryUnreachable
	case clsRunStep:
		return BuildStepFailed
	}
	return Unknown
}

func (c *buildCtx) pushSecret() string {
	if c.s.Config != nil && c.s.Config.Spec.RenderedImagePushSecret.Name != "" {
		return MCONamespace + "/" + c.s.Config.Spec.RenderedImagePushSecret.Name
	}
	return "spec.renderedImagePushSecret"
}

func (c *buildCtx) baseSecret() string {
	if c.s.Config != nil && c.s.Config.Spec.BaseImagePullSecret != nil && c.s.Config.Spec.BaseImagePullSecret.Name != "" {
		return MCONamespace + "/" + c.s.Config.Spec.BaseImagePullSecret.Name
	}
	if c.s.Config != nil {
		return "openshift-config/pull-secret (copied to global-pull-secret-copy; spec.baseImagePullSecret is unset)"
	}
	return "spec.baseImagePullSecret (or openshift-config/pull-secret when unset)"
}

func (c *buildCtx) stepPhrase(r scanResult) string {
	step := "a RUN step"
	if r.step != "" {
		step = "step " + short(scrub(r.step), 160)
	}
	return step
}

// fromScan turns a classified log line into the build's diagnosis.
func (c *buildCtx) fromScan(r scanResult) Diagnosis {
	pushSpec := string(c.s.Build.Spec.RenderedImagePushSpec)
	pushHost := registryHost(pushSpec)
	lineHost := hostInLine(r.evidence)
	var msg string
	switch r.cls {
	case clsContainerfile:
		msg = fmt.Sprintf("%s: the Containerfile does not parse; fix spec.containerFile of %s", c.subjID, c.moscRef())
	case clsRepo:
		repo := repoID(r.evidence)
		if repo == "" {
			repo = "a package repository"
		} else {
			repo = "package repository " + repo
		}
		msg = fmt.Sprintf("%s: %s could not reach %s; check the repository URL, the cluster proxy and, for Red Hat CDN repositories, the entitlement certificates", c.subjID, c.stepPhrase(r), short(repo, 200))
	case clsPackage:
		pkgs := packageNames(r.evidence)
		what := "a package was not found"
		if pkgs != "" {
			what = "package(s) not found: " + short(pkgs, 200)
		}
		msg = fmt.Sprintf("%s: %s in %s; fix the package name or enable the repository that ships it in spec.containerFile of %s", c.subjID, what, c.stepPhrase(r), c.moscRef())
	case clsBaseAuth:
		host := orDefault(lineHost, "the base image registry")
		msg = fmt.Sprintf("%s: %s refused the credentials for pulling the base image; put valid credentials for %s in %s", c.subjID, host, host, c.baseSecret())
	case clsBaseNotFound:
		host := orDefault(lineHost, "the registry")
		msg = fmt.Sprintf("%s: the base image was not found in %s; fix the FROM reference in spec.containerFile of %s, or the image mirror configuration", c.subjID, host, c.moscRef())
	case clsPushAuth:
		msg = fmt.Sprintf("%s: %s refused the push credentials for %s; put valid credentials for %s (exact host name and port) in %s", c.subjID, pushHost, short(pushSpec, 200), pushHost, c.pushSecret())
	case clsPushDenied:
		msg = fmt.Sprintf("%s: %s accepted the push credentials but denied writing to %s; give the account in %s write access to that repository (or create it)", c.subjID, pushHost, short(repoOf(pushSpec), 200), c.pushSecret())
	case clsNetwork:
		host := lineHost
		doing := "contacting it"
		switch r.dir {
		case dirPull:
			doing = "pulling the base image"
		case dirPush:
			doing = "pushing the image"
			if host == "" {
				host = pushHost
			}
		}
		host = orDefault(host, "a registry")
		msg = fmt.Sprintf("%s: the build pod could not reach %s while %s; check DNS, the cluster proxy, egress firewall rules and trusted CAs (image.config.openshift.io/cluster additionalTrustedCA)", c.subjID, host, doing)
	case clsRunStep:
		exit := "failed"
		if r.exit != "" {
			exit = "exited with status " + r.exit
		}
		msg = fmt.Sprintf("%s: %s %s; fix that command in spec.containerFile of %s (full log: %s)", c.subjID, c.stepPhrase(r), exit, c.moscRef(), c.logCmd())
	default:
		return c.unknown()
	}
	return newDiagnosis(classReason(r.cls), "", msg, r.evidence)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// repoOf strips the tag from a push spec.
func repoOf(spec string) string {
	slash := strings.LastIndexByte(spec, '/')
	if i := strings.LastIndexByte(spec, ':'); i > slash {
		return spec[:i]
	}
	return spec
}
