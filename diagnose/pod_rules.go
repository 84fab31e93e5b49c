package diagnose

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/validators"
)

// newestPodOfRun is the newest build pod of a build that is not over well: the pod whose status tells whether it was
// evicted or OOM-killed (its status, not the progress lines of its log, is the evidence).
func (v *buildView) newestPodOfRun() (*corev1.Pod, bool) {
	if v.phase == mco.PhaseSucceeded || v.phase == mco.PhaseInterrupted || len(v.pods) == 0 {
		return nil, false
	}
	return v.pods[0], true
}

// buildPodEvicted: the kubelet evicted the newest build pod. Error once the build failed, Warning while the Job
// retries.
func buildPodEvicted(v *buildView) (finding, bool) {
	p, ok := v.newestPodOfRun()
	if !ok || p.Status.Reason != "Evicted" {
		return finding{}, false
	}
	// kubelet eviction manager: "The node was low on resource: ephemeral-storage. Threshold quantity: ..."
	// (kubernetes pkg/kubelet/eviction/helpers.go).
	msg := fmt.Sprintf("%s: the kubelet evicted build pod %s from node %s: %s; free that resource on the build nodes (buildah's vfs storage keeps every layer on the node's disk) or schedule builds onto larger nodes",
		v.subjID, p.Name, orDefault(p.Spec.NodeName, "?"), short(orDefault(p.Status.Message, "no reason given"), 300))
	return v.whileRetrying(finding{message: msg, evidence: "pod " + p.Name + " " + conditionText(p.Status.Reason, p.Status.Message)})
}

// buildOOMKilled: a container of the newest build pod was OOM-killed.
func buildOOMKilled(v *buildView) (finding, bool) {
	p, ok := v.newestPodOfRun()
	if !ok {
		return finding{}, false
	}
	name, ok := oomKilled(p)
	if !ok {
		return finding{}, false
	}
	msg := fmt.Sprintf("%s: container %s of build pod %s ran out of memory (OOMKilled); give the build more memory (check LimitRanges in %s and the node size) or split large dnf transactions in spec.containerFile of %s",
		v.subjID, name, p.Name, mco.Namespace, v.moscRef())
	return v.whileRetrying(finding{message: msg, evidence: fmt.Sprintf("pod %s container %s terminated: OOMKilled (exit code 137)", p.Name, name)})
}

// whileRetrying makes a pod's failure a Warning while the build is not over: the Job retries.
func (v *buildView) whileRetrying(f finding) (finding, bool) {
	if !v.phase.Terminal() {
		f.severity = SeverityWarning
		f.message = fmt.Sprintf("%s (the Job retries up to %d attempts)", f.message, jobAttempts(v.s.Job))
	}
	return f, true
}

// oomKilled returns the container of p the kubelet killed for memory.
func oomKilled(p *corev1.Pod) (string, bool) {
	for _, list := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
		for _, cs := range list {
			for _, t := range []*corev1.ContainerStateTerminated{cs.State.Terminated, cs.LastTerminationState.Terminated} {
				if t != nil && t.Reason == "OOMKilled" {
					return cs.Name, true
				}
			}
		}
	}
	return "", false
}

// beforeJob reports whether the build failed before any Job existed (no Job, no pod), with the evidence there is:
// its Failed condition and the MCO's Events.
func (v *buildView) beforeJob() (string, bool) {
	if v.phase != mco.PhaseFailed || v.s.Job != nil || len(v.pods) > 0 {
		return "", false
	}
	evidence := []string{v.failedConditionText()}
	for _, e := range v.mcoWarnings() {
		evidence = append(evidence, e.String())
	}
	return strings.Join(evidence, "\n"), true
}

// containerfileBeforeJob: a failed build with no Job and no pod whose MachineOSConfig's Containerfile does not
// parse. MCO 5.0+ validates the rendered Containerfile before it creates the Job and fails the build with the
// generic conditions (openshift/machine-config-operator pkg/controller/build reconciler: "has an invalid
// Containerfile; marking as failed"), so the Containerfile is checked again here, with the containerfile rule
// itself. There is no Job, so no log to point at.
func containerfileBeforeJob(v *buildView) (finding, bool) {
	evidence, ok := v.beforeJob()
	if !ok || v.s.Config == nil {
		return finding{}, false
	}
	errs := validators.ContainerfileErrors(v.s.Config)
	if len(errs) == 0 {
		return finding{}, false
	}
	msg := fmt.Sprintf("%s failed before any build Job was created: the MCO validates the Containerfile first, and %s does not parse: %s; fix it, the MCO builds again when the MachineOSConfig changes",
		v.subjID, v.moscRef(), short(errs[0].Error(), 400))
	return found(msg, errs.ToAggregate().Error()+"\n"+evidence)
}

// failedBeforeJob: a failed build with no Job and no pod, whose Containerfile parses (or is gone): the cause is in
// the machine-os-builder log.
func failedBeforeJob(v *buildView) (finding, bool) {
	evidence, ok := v.beforeJob()
	if !ok {
		return finding{}, false
	}
	checked := "the Containerfile of " + v.moscRef() + " parses"
	if v.s.Config == nil {
		checked = v.moscRef() + " is gone, so its Containerfile could not be checked again"
	}
	msg := fmt.Sprintf("%s failed before any build Job was created (no Job %s, no build pod) and %s; the cause is in the machine-os-builder log: oc logs -n %s deployment/machine-os-builder",
		v.subjID, v.job, checked, mco.Namespace)
	return found(msg, evidence)
}

func (v *buildView) failedConditionText() string {
	for _, c := range v.s.Build.Status.Conditions {
		if c.Type == "Failed" {
			return "Failed=" + string(c.Status) + " " + conditionText(c.Reason, c.Message)
		}
	}
	return "no Failed condition"
}
