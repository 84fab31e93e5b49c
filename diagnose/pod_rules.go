package diagnose

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/validators"
)

// buildPodKilled: the newest build pod was evicted, or a container of it OOM-killed. The pod's status (not the
// progress lines of its log) is the evidence. Error once the build failed, Warning while the Job retries.
func buildPodKilled(v *buildView) (finding, bool) {
	if v.phase == mco.PhaseSucceeded || v.phase == mco.PhaseInterrupted || len(v.pods) == 0 {
		return finding{}, false
	}
	p := v.pods[0]
	var d Diagnosis
	switch {
	case p.Status.Reason == "Evicted":
		// kubelet eviction manager: "The node was low on resource: ephemeral-storage. Threshold quantity: ..."
		// (kubernetes pkg/kubelet/eviction/helpers.go).
		msg := fmt.Sprintf("%s: the kubelet evicted build pod %s from node %s: %s; free that resource on the build nodes (buildah's vfs storage keeps every layer on the node's disk) or schedule builds onto larger nodes",
			v.subjID, p.Name, orDefault(p.Spec.NodeName, "?"), short(orDefault(p.Status.Message, "no reason given"), 300))
		d = newDiagnosis(BuildPodEvicted, "", msg, "pod "+p.Name+" "+conditionText(p.Status.Reason, p.Status.Message))
	default:
		name, ok := oomKilled(p)
		if !ok {
			return finding{}, false
		}
		msg := fmt.Sprintf("%s: container %s of build pod %s ran out of memory (OOMKilled); give the build more memory (check LimitRanges in %s and the node size) or split large dnf transactions in spec.containerFile of %s",
			v.subjID, name, p.Name, mco.Namespace, v.moscRef())
		d = newDiagnosis(BuildOOMKilled, "", msg, fmt.Sprintf("pod %s container %s terminated: OOMKilled (exit code 137)", p.Name, name))
	}
	if !v.phase.Terminal() {
		d.Severity = SeverityWarning
		d.Message = cleanMessage(fmt.Sprintf("%s (the Job retries up to %d attempts)", d.Message, jobAttempts(v.s.Job)))
	}
	return found(d)
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

// failedBeforeJob: a failed build with no Job and no pod. MCO 5.0+ validates the rendered Containerfile before it
// creates the Job and fails the build with the generic conditions (openshift/machine-config-operator
// pkg/controller/build reconciler: "has an invalid Containerfile; marking as failed"), so the MachineOSConfig's
// Containerfile is checked again here, with the containerfile rule itself. There is no Job, so no log to point at.
func failedBeforeJob(v *buildView) (finding, bool) {
	if v.phase != mco.PhaseFailed || v.s.Job != nil || len(v.pods) > 0 {
		return finding{}, false
	}
	evidence := []string{v.failedConditionText()}
	for _, e := range v.mcoWarnings() {
		evidence = append(evidence, e.String())
	}
	if v.s.Config != nil {
		if errs := validators.ContainerfileErrors(v.s.Config); len(errs) > 0 {
			msg := fmt.Sprintf("%s failed before any build Job was created: the MCO validates the Containerfile first, and %s does not parse: %s; fix it, the MCO builds again when the MachineOSConfig changes",
				v.subjID, v.moscRef(), short(errs[0].Error(), 400))
			return found(newDiagnosis(ContainerfileSyntax, "", msg, strings.Join(append([]string{errs.ToAggregate().Error()}, evidence...), "\n")))
		}
	}
	checked := "the Containerfile of " + v.moscRef() + " parses"
	if v.s.Config == nil {
		checked = v.moscRef() + " is gone, so its Containerfile could not be checked again"
	}
	msg := fmt.Sprintf("%s failed before any build Job was created (no Job %s, no build pod) and %s; the cause is in the machine-os-builder log: oc logs -n %s deployment/machine-os-builder",
		v.subjID, v.job, checked, mco.Namespace)
	return found(newDiagnosis(FailedBeforeJob, "", msg, strings.Join(evidence, "\n")))
}

func (v *buildView) failedConditionText() string {
	for _, c := range v.s.Build.Status.Conditions {
		if c.Type == "Failed" {
			return "Failed=" + string(c.Status) + " " + conditionText(c.Reason, c.Message)
		}
	}
	return "no Failed condition"
}
