package diagnose

import (
	"fmt"
	"strings"

	"github.com/ocl-guard/ocl-guard/mco"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// buildChain is the ranked chain of build rules: the first rule that finds something decides. Rows without a reason
// report a cause that the classifier's table (causeTable) names, with its reason and severity; the first row is the
// healthy stop of a succeeded build.
var buildChain = chain[*buildView]{rules: []rule[*buildView]{
	{"", "", buildSucceeded},
	{Interrupted, SeverityInfo, buildInterrupted},
	{BuilderImagePull, SeverityError, builderImagePull},
	{BuildPodEvicted, SeverityError, buildPodEvicted},
	{BuildOOMKilled, SeverityError, buildOOMKilled},
	{"", "", failedWithCause},
	{ContainerfileSyntax, SeverityError, containerfileBeforeJob},
	{FailedBeforeJob, SeverityError, failedBeforeJob},
	{Unknown, SeverityError, failedUnknown},
	{"", SeverityWarning, attemptFailed}, // a retry may still succeed, whatever the cause
	{BuildPendingTooLong, SeverityWarning, buildPending},
	{BuildStuck, SeverityWarning, buildStuck},
}}

// evaluateBuild runs the chain; a nil build is healthy.
func evaluateBuild(s BuildSnapshot) verdict {
	if s.Build == nil {
		return verdict{}
	}
	return buildChain.evaluate(newBuildView(s))
}

func found(message, evidence string) (finding, bool) {
	return finding{message: message, evidence: evidence}, true
}

func buildSucceeded(v *buildView) (finding, bool) {
	return finding{}, v.phase == mco.PhaseSucceeded
}

func buildInterrupted(v *buildView) (finding, bool) {
	if v.phase != mco.PhaseInterrupted {
		return finding{}, false
	}
	ev := ""
	if cond := mco.ConditionTrue(v.s.Build.Status.Conditions, mcfgv1.MachineOSBuildInterrupted); cond != nil {
		ev = conditionText(cond.Reason, cond.Message)
	}
	return found(fmt.Sprintf(
		"%s was interrupted (its MachineOSConfig or the pool's rendered config changed, or its Job was deleted); the MCO starts a new build, act only if this repeats", v.subjID), ev)
}

var pullWaitingReasons = map[string]bool{
	"ErrImagePull": true, "ImagePullBackOff": true, "InvalidImageName": true, "ErrImageNeverPull": true,
	"RegistryUnavailable": true, "SignatureValidationFailed": true,
}

// builderImagePull finds a build pod container that waits on its own image.
func builderImagePull(v *buildView) (finding, bool) {
	for _, p := range v.pods {
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
				img := orDefault(cs.Image, specImage(p, cs.Name))
				what := w.Reason
				if cause := pullCause(w.Message); cause != "" {
					what += ", " + cause
				}
				msg := fmt.Sprintf("%s: build pod %s cannot pull the builder image %s for container %s (%s); check the cluster pull secret (openshift-config/pull-secret) and the image mirror sets for %s",
					v.subjID, p.Name, short(img, 200), cs.Name, what, registryHost(img))
				return found(msg, conditionText(w.Reason, w.Message))
			}
		}
	}
	return finding{}, false
}

// failedWithCause: a failed build whose Failed condition, MCO Events, termination message or log names a cause.
func failedWithCause(v *buildView) (finding, bool) {
	if v.phase != mco.PhaseFailed {
		return finding{}, false
	}
	best := v.causeWithoutLog()
	wantsLog := best.rank() <= buildRank(clsRunStep)
	if v.s.Log != "" && wantsLog {
		if r := scanLog(v.s.Log); r.rank() > best.rank() || r.rank() == best.rank() && r.rank() > 0 && best.step == "" {
			best = r
		}
	}
	if best.rank() == 0 {
		return finding{}, false
	}
	f := v.fromScan(best)
	f.wantsLog = wantsLog
	return f, true
}

// causeWithoutLog is the best cause the Failed condition's message (when it says more than that the build failed),
// the MCO's Events and the newest failed container's termination message name.
func (v *buildView) causeWithoutLog() scanResult {
	var best scanResult
	if cond := v.failureCondition(); cond != nil {
		best = scanLog(cond.Message)
	}
	for _, e := range v.mcoWarnings() {
		if r := scanLog(e.Message); r.rank() > best.rank() {
			best = r
		}
	}
	if r := v.attemptResult(); r.rank() > best.rank() {
		best = r
	}
	return best
}

// failedUnknown: a failed build with no recognised cause; the evidence holds what there is.
func failedUnknown(v *buildView) (finding, bool) {
	if v.phase != mco.PhaseFailed {
		return finding{}, false
	}
	return v.unknown(), true
}

// unknown is the finding for a failed build whose cause nothing names: the evidence holds what there is, and the
// log could name the cause.
func (v *buildView) unknown() finding {
	var parts, status []string
	if cond := v.failureCondition(); cond != nil {
		parts = append(parts, conditionText(cond.Reason, cond.Message)) // the MCO's own words first
	}
	if jc := mco.JobCondition(v.s.Job, batchv1.JobFailed); jc != nil {
		status = append(status, fmt.Sprintf("Job %s: %s", v.job, orDefault(jc.Reason, string(jc.Type))))
	}
	tc, hasTC := v.failedContainer()
	if hasTC {
		status = append(status, fmt.Sprintf("container %s exit code %d (%s)", tc.name, tc.t.ExitCode, orDefault(tc.t.Reason, "terminated")))
	}
	if len(status) > 0 {
		parts = append(parts, strings.Join(status, "; "))
	}
	for _, e := range v.mcoWarnings() {
		parts = append(parts, e.String())
	}
	switch {
	case v.s.Log != "":
		parts = append(parts, lastLines(v.s.Log, 5))
	case hasTC && tc.t.Message != "":
		parts = append(parts, lastLines(tc.t.Message, 5))
	}
	msg := fmt.Sprintf("%s failed with no recognised cause; read the build log (%s)", v.subjID, v.logCmd())
	return finding{reason: Unknown, message: msg, evidence: strings.Join(parts, "\n"), wantsLog: true}
}

// attemptFailed: a build still Pending or Building whose latest attempt failed with a known cause while the Job
// retries: a Warning, since a retry may still succeed.
func attemptFailed(v *buildView) (finding, bool) {
	if v.phase.Terminal() {
		return finding{}, false
	}
	r := v.attemptResult()
	if r.rank() == 0 {
		return finding{}, false
	}
	f := v.fromScan(r)
	f.message = fmt.Sprintf("%s (a build attempt failed; the Job retries up to %d attempts)", f.message, jobAttempts(v.s.Job))
	return f, true
}

// buildPending reports a build whose pod has not started (or whose Job has no pod) for longer than PendingAfter.
func buildPending(v *buildView) (finding, bool) {
	if v.phase.Terminal() {
		return finding{}, false
	}
	if len(v.pods) == 0 {
		return v.noPodTooLong()
	}
	return v.podPendingTooLong(v.pods[0])
}

func (v *buildView) noPodTooLong() (finding, bool) {
	now, limit := v.s.Now, v.lim.PendingAfter
	if v.since.IsZero() || now.Sub(v.since) <= limit {
		return finding{}, false
	}
	ev := fmt.Sprintf("Job %s/%s has no pod", mco.Namespace, v.job)
	if v.s.Job == nil {
		ev = fmt.Sprintf("Job %s/%s not found", mco.Namespace, v.job)
	} else {
		for _, jc := range v.s.Job.Status.Conditions {
			if jc.Status == corev1.ConditionTrue {
				ev += "; " + string(jc.Type) + ": " + conditionText(jc.Reason, jc.Message)
			}
		}
	}
	msg := fmt.Sprintf("%s has had no build pod for %s (limit %s); check the Job %s and quotas and events in %s",
		v.subjID, humanDuration(now.Sub(v.since)), humanDuration(limit), v.job, mco.Namespace)
	return found(msg, ev)
}

func (v *buildView) podPendingTooLong(p *corev1.Pod) (finding, bool) {
	if p.Status.Phase != corev1.PodPending && p.Status.Phase != "" || podStarted(p) {
		// From 4.20 image-build is an init container: a building pod stays in phase Pending while it runs.
		return finding{}, false
	}
	now, limit := v.s.Now, v.lim.PendingAfter
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
		since = v.since
	}
	if since.IsZero() || now.Sub(since) <= limit {
		return finding{}, false
	}
	age := humanDuration(now.Sub(since))
	if sched != nil && sched.Status != corev1.ConditionTrue {
		msg := fmt.Sprintf("%s: build pod %s has been unschedulable for %s (limit %s): %s; free capacity or fix taints, node selectors and quotas",
			v.subjID, p.Name, age, humanDuration(limit), short(sched.Message, 300))
		return found(msg, "PodScheduled="+string(sched.Status)+" "+conditionText(sched.Reason, sched.Message))
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
		v.subjID, p.Name, age, humanDuration(limit), mco.Namespace, p.Name)
	return found(msg, ev)
}

// buildStuck: Building for longer than StuckAfter. The log, when read, says what the build was doing.
func buildStuck(v *buildView) (finding, bool) {
	if v.phase != mco.PhaseBuilding || v.since.IsZero() || v.s.Now.Sub(v.since) <= v.lim.StuckAfter {
		return finding{}, false
	}
	ev, hint := "", ""
	if v.s.Log != "" {
		if r := scanLog(v.s.Log); r.rank() > 0 {
			ev = r.evidence
			hint = fmt.Sprintf("; its log shows %s", causeOf(r.cls).reason)
		} else {
			ev = lastLines(v.s.Log, 5)
		}
	}
	msg := fmt.Sprintf("%s has been Building for %s (limit %s) and the MCO sets no deadline on build Jobs, so it will not fail on its own%s; read the log (%s) and, to retry, run oc annotate machineosconfig/%s machineconfiguration.openshift.io/rebuild=",
		v.subjID, humanDuration(v.s.Now.Sub(v.since)), humanDuration(v.lim.StuckAfter), hint, v.logCmd(), v.moscOrPlaceholder())
	return finding{message: msg, evidence: ev, wantsLog: true}, true
}

// failureCondition is the Failed condition when its message says why the build failed, else nil. From
// MCO 5.1 (openshift/machine-config-operator#6431, #6463; backported to 4.22 by #6479 and to 4.19 by #6518, #6527)
// the condition carries the failure text; before, it carried a fixed phrase. The phrase's wording is not matched:
// a message that names no cause the classifier knows and has at most three words says nothing more than the
// condition itself.
func (v *buildView) failureCondition() *metav1.Condition {
	cond := mco.ConditionTrue(v.s.Build.Status.Conditions, mcfgv1.MachineOSBuildFailed)
	if cond == nil || len(strings.Fields(cond.Message)) <= 3 && scanLog(cond.Message).rank() == 0 {
		return nil
	}
	return cond
}
