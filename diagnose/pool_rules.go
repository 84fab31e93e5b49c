package diagnose

import (
	"fmt"
	"time"

	"github.com/ocl-guard/ocl-guard/mco"
)

// poolChain is the ranked chain of rollout rules, most severe first. Every rule runs: the pool's diagnosis is the
// finding of the first rule that has one, and up to three others are named after it.
var poolChain = chain[*poolView]{also: 3, rules: []rule[*poolView]{
	{NodeImagePullAuth, SeverityError, nodeGroupRule(NodeImagePullAuth)},
	{NodeImageNotFound, SeverityError, nodeGroupRule(NodeImageNotFound)},
	{NodeRegistryUnreachable, SeverityError, nodeGroupRule(NodeRegistryUnreachable)},
	{NodeImagePolicyRejected, SeverityError, nodeGroupRule(NodeImagePolicyRejected)},
	{NodeDiskFull, SeverityError, nodeGroupRule(NodeDiskFull)},
	{NodeImageContentInvalid, SeverityError, nodeGroupRule(NodeImageContentInvalid)},
	{NodeImageNotBootable, SeverityError, nodeGroupRule(NodeImageNotBootable)},
	{NodeUnitMissing, SeverityError, nodeGroupRule(NodeUnitMissing)},
	{NodeCauseNotRecorded, SeverityError, nodeGroupRule(NodeCauseNotRecorded)},
	{NodeDegraded, SeverityError, nodeGroupRule(NodeDegraded)},
	{BuildFailedBlocksRollout, SeverityError, buildFailedBlocksRollout},
	{NodeRebootStuck, SeverityWarning, nodeGroupRule(NodeRebootStuck)},
	{RolloutStalled, SeverityWarning, rolloutStalled},
	{RolloutNotStarted, SeverityWarning, rolloutNotStarted},
	{RolloutPaused, SeverityInfo, rolloutPaused},
}}

// DiagnosePool diagnoses the rollout of a layered pool's image and returns the Progress to remember.
func DiagnosePool(s PoolSnapshot) (Diagnosis, Progress) {
	if s.Pool == nil || s.Config == nil {
		return Diagnosis{}, Progress{}
	}
	v := newPoolView(s)
	return poolChain.evaluate(v).Diagnosis, v.next
}

// nodeGroupRule reports the nodes grouped under r.
func nodeGroupRule(r Reason) func(v *poolView) (finding, bool) {
	return func(v *poolView) (finding, bool) {
		g := v.groups[r]
		if g == nil || g.count == 0 {
			return finding{}, false
		}
		return finding{
			message:  nodeGroupMessage(r, g, v.subj, v.host, v.mosc),
			evidence: g.evidence,
			summary:  fmt.Sprintf("%s on %s", r, plural(g.count, "node")),
		}, true
	}
}

func buildFailedBlocksRollout(v *poolView) (finding, bool) {
	c := v.buildDegraded
	if c == nil {
		return finding{}, false
	}
	mosb := ""
	if m := mosbInMessageRe.FindStringSubmatch(c.Message); m != nil {
		mosb = m[1]
	} else if v.s.LatestBuild != nil {
		mosb = v.s.LatestBuild.Name
	} else if v.s.Config.Status.MachineOSBuild != nil {
		mosb = v.s.Config.Status.MachineOSBuild.Name
	}
	what := "the latest image build failed"
	see := "see the failed MachineOSBuild's ocl-guard.io/diagnosis annotation (oc get machineosbuild -o wide)"
	if mosb != "" {
		what = "MachineOSBuild " + mosb + " failed"
		see = fmt.Sprintf("see the ocl-guard.io/diagnosis annotation of MachineOSBuild %s (oc describe machineosbuild %s)", mosb, mosb)
	}
	return finding{
		message:  fmt.Sprintf("%s: rollout blocked because %s, the pool stays on its previous image; %s", v.subj, what, see),
		evidence: "ImageBuildDegraded=True " + conditionText(c.Reason, c.Message),
	}, true
}

// rolloutNotStarted: the image exists but nothing moves towards it.
func rolloutNotStarted(v *poolView) (finding, bool) {
	b := v.s.LatestBuild
	if !v.notStarted() {
		return finding{}, false
	}
	ago := humanDuration(v.now.Sub(v.buildDone))
	if v.pointsElsewhere() {
		return finding{
			message: fmt.Sprintf("%s: MachineOSBuild %s succeeded %s ago but MachineOSConfig %s still points at another image (status.currentImagePullSpec); read the machine-config-controller log (%s)",
				v.subj, b.Name, ago, v.mosc, mccLogCmd),
			evidence: fmt.Sprintf("MachineOSBuild %s digestedImagePushSpec %s; MachineOSConfig %s currentImagePullSpec %q", b.Name, b.Status.DigestedImagePushSpec, v.mosc, v.target),
		}, true
	}
	return finding{
		message: fmt.Sprintf("%s: MachineOSBuild %s succeeded %s ago but no node has been given its image and the pool is not Updating; read the machine-config-controller log (%s) and check the pool's node selector",
			v.subj, b.Name, ago, mccLogCmd),
		evidence: fmt.Sprintf("currentImagePullSpec %s; no node has desiredImage equal to it (%s not updated: %s)", v.target, plural(v.pending, "node"), v.pendingList()),
	}, true
}

var mccLogCmd = fmt.Sprintf("oc logs -n %s deployment/machine-config-controller -c machine-config-controller", mco.Namespace)

// rolloutStalled: updatedMachineCount unchanged for StallAfter while a rollout can progress.
func rolloutStalled(v *poolView) (finding, bool) {
	if v.next.Since.IsZero() || v.notStarted() {
		return finding{}, false
	}
	age := v.now.Sub(v.next.Since)
	if age < v.lim.StallAfter {
		return finding{}, false
	}
	st := v.s.Pool.Status
	return finding{
		message: fmt.Sprintf("%s: rollout stalled at %d/%d updated machines for %s (limit %s); not yet on the new image: %s; check oc describe mcp %s for a drain blocked by a PodDisruptionBudget or an unavailable node holding maxUnavailable",
			v.subj, st.UpdatedMachineCount, st.MachineCount, humanDuration(age), humanDuration(v.lim.StallAfter), v.pendingList(), v.s.Pool.Name),
		evidence: fmt.Sprintf("updatedMachineCount %d/%d unchanged since %s; readyMachineCount %d, unavailableMachineCount %d, degradedMachineCount %d",
			st.UpdatedMachineCount, st.MachineCount, v.next.Since.Format(time.RFC3339), st.ReadyMachineCount, st.UnavailableMachineCount, st.DegradedMachineCount),
	}, true
}

func rolloutPaused(v *poolView) (finding, bool) {
	if !v.s.Pool.Spec.Paused || v.target == "" || v.rolledOut() {
		return finding{}, false
	}
	return finding{
		message: fmt.Sprintf("%s is paused (spec.paused=true): %s not on the new image (%s); unpause when ready: oc patch mcp %s --type merge -p '{\"spec\":{\"paused\":false}}'",
			v.subj, plural(v.pending, "node"), v.pendingList(), v.s.Pool.Name),
		evidence: "currentImagePullSpec " + v.target,
	}, true
}
