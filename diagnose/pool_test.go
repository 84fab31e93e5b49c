package diagnose

import (
	"strings"
	"testing"
	"time"

	"github.com/ocl-guard/ocl-guard/mco"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
)

const rebaseCmd = "error running rpm-ostree rebase --experimental ostree-unverified-registry:" + target

// Node reasons in the four wrapper shapes of failure-signatures.md section 7.
var (
	reasonAuthShape2     = "failed to update OS to " + target + ": " + rebaseCmd + ": error: Creating importer: failed to invoke method OpenImage: failed to invoke method OpenImage: reading manifest sha256:aaaabbbb in registry.example.com/ocl/os-image: unauthorized: access to the requested resource is not authorized: exit status 1"
	reasonNotFoundShape1 = "failed to update OS to " + target + " : " + rebaseCmd + ": error: remote error: Failed to invoke skopeo proxy method OpenImage: remote error: reading manifest sha256:aaaabbbb in registry.example.com/ocl/os-image: manifest unknown: manifest unknown: exit status 1"
	reasonNoCauseShape3  = "Failed to update OS to " + target + " after retries: timed out waiting for the condition"
	reasonX509Shape4     = "failed to update OS to " + target + " after retries: " + rebaseCmd + ": error: Creating importer: failed to invoke method OpenImage: failed to invoke method OpenImage: pinging container registry registry.example.com: Get \"https://registry.example.com/v2/\": tls: failed to verify certificate: x509: certificate signed by unknown authority: exit status 1: timed out waiting for the condition"
	reasonDisk           = "failed to update OS to " + target + ": " + rebaseCmd + ": error: Importing: Unencapsulating base: Importing commit: Writing content object: min-free-space-percent '3%' would be exceeded, at least 13.3 MB requested: exit status 1"
	reasonNoSpace        = "failed to update OS to " + target + ": " + rebaseCmd + ": error: Writing content object: fallocate: No space left on device: exit status 1"
	reasonOther          = "unexpected on-disk state validating against rendered-worker-ec40d2965ff81bce7cd7a7e82a680739: mode mismatch for file: \"/etc/chrony.conf\"; expected: -rw-r--r--/420/0644; received: -rw-------/384/0600"
	reasonDNSShape4      = "failed to update OS to " + target + " after retries: " + rebaseCmd + ": error: Creating importer: failed to invoke method OpenImage: failed to invoke method OpenImage: pinging container registry registry.example.com: Get \"https://registry.example.com/v2/\": dial tcp: lookup registry.example.com on 10.0.0.2:53: no such host: exit status 1: timed out waiting for the condition"
)

func layeredSnapshot(nodes ...NodeInfo) PoolSnapshot {
	n := int32(len(nodes))
	updated := int32(0)
	for _, nd := range nodes {
		if nd.Annotations[mco.AnnotationCurrentImage] == target && nd.Annotations[mco.AnnotationState] == mco.StateDone {
			updated++
		}
	}
	return PoolSnapshot{
		Pool:        newPool(n, updated, poolCond(mcfgv1.MachineConfigPoolUpdating, corev1.ConditionTrue, "", "")),
		Config:      newMOSC(),
		LatestBuild: succeededBuild(t0.Add(-time.Hour), target),
		Nodes:       nodes,
		Now:         t0,
	}
}

func TestDiagnosePoolNodeReasons(t *testing.T) {
	cases := []struct {
		name   string
		nodes  []NodeInfo
		reason Reason
		inMsg  []string
		inEv   []string
	}{
		{
			name: "auth, two nodes",
			nodes: []NodeInfo{
				node("worker-0", target, oldImage, mco.StateDegraded, reasonAuthShape2),
				node("worker-1", target, oldImage, mco.StateDegraded, reasonAuthShape2),
				node("worker-2", oldImage, oldImage, mco.StateDone, ""),
			},
			reason: NodeImagePullAuth,
			inMsg:  []string{"pool worker: 2 nodes cannot pull the OS image (NodeImagePullAuth: worker-0, worker-1); check the cluster pull secret (openshift-config/pull-secret) for registry.example.com"},
			inEv:   []string{"node worker-0 (Degraded):", "unauthorized"},
		},
		{
			name:   "manifest unknown, old wrapper with space before the colon",
			nodes:  []NodeInfo{node("worker-0", target, oldImage, mco.StateDegraded, reasonNotFoundShape1)},
			reason: NodeImageNotFound,
			inMsg:  []string{"1 node cannot find the OS image in registry.example.com", "oc annotate machineosconfig/worker machineconfiguration.openshift.io/rebuild="},
		},
		{
			name:   "cause dropped (2025-07 → 2026-08 wrapper)",
			nodes:  []NodeInfo{node("ip-10-0-1-2", target, oldImage, mco.StateDegraded, reasonNoCauseShape3)},
			reason: NodeCauseNotRecorded,
			inMsg: []string{"did not record the cause", "NodeCauseNotRecorded: ip-10-0-1-2",
				"oc logs -n openshift-machine-config-operator -c machine-config-daemon $(oc get pod -n openshift-machine-config-operator -l k8s-app=machine-config-daemon --field-selector spec.nodeName=ip-10-0-1-2 -o name)"},
			inEv: []string{"timed out waiting for the condition"},
		},
		{
			name:   "lowercase cause-dropped wrapper",
			nodes:  []NodeInfo{node("w", target, oldImage, mco.StateDegraded, strings.ToLower(reasonNoCauseShape3[:1])+reasonNoCauseShape3[1:])},
			reason: NodeCauseNotRecorded,
		},
		{
			name:   "x509 with the 2026-08 wrapper (cause kept)",
			nodes:  []NodeInfo{node("w", target, oldImage, mco.StateDegraded, reasonX509Shape4)},
			reason: NodeRegistryUnreachable,
			inMsg:  []string{"cannot reach registry registry.example.com"},
		},
		{
			name:   "DNS with the 2026-08 wrapper",
			nodes:  []NodeInfo{node("w", target, oldImage, mco.StateDegraded, reasonDNSShape4)},
			reason: NodeRegistryUnreachable,
		},
		{
			name:   "ostree min-free-space",
			nodes:  []NodeInfo{node("w", target, oldImage, mco.StateDegraded, reasonDisk)},
			reason: NodeDiskFull,
		},
		{
			name:   "no space left on device",
			nodes:  []NodeInfo{node("w", target, oldImage, mco.StateDegraded, reasonNoSpace)},
			reason: NodeDiskFull,
		},
		{
			name:   "other degraded reason is quoted",
			nodes:  []NodeInfo{node("worker-9", target, oldImage, mco.StateDegraded, reasonOther)},
			reason: NodeDegraded,
			inMsg:  []string{"1 node degraded (NodeDegraded: worker-9)", "unexpected on-disk state", "machine-config-daemon log"},
			inEv:   []string{"mode mismatch"},
		},
		{
			name:   "unreconcilable",
			nodes:  []NodeInfo{node("worker-9", target, oldImage, mco.StateUnreconcilable, "can't reconcile config rendered-a with rendered-b: ignition file changes: unreconcilable")},
			reason: NodeDegraded,
			inEv:   []string{"(Unreconcilable)"},
		},
		{
			name: "reason truncated at 2000 characters keeps its cause",
			nodes: []NodeInfo{node("w", target, oldImage, mco.StateDegraded,
				("failed to update OS to " + target + " after retries: " + rebaseCmd + ": error: Creating importer: failed to invoke method OpenImage: reading manifest x in registry.example.com/ocl/os-image: unauthorized: " + strings.Repeat("detail ", 400))[:2000])},
			reason: NodeImagePullAuth,
		},
		{
			name: "a repository named like an error word does not change the class",
			nodes: func() []NodeInfo {
				img := "quay.io/acme/forbidden-unauthorized-os@sha256:aaaabbbbccccddddeeeeffff0000111122223333444455556666777788889999"
				r := "failed to update OS to " + img + ": error running rpm-ostree rebase --experimental ostree-unverified-registry:" + img + ": error: reading manifest sha256:aaaa in quay.io/acme/forbidden-unauthorized-os: manifest unknown: exit status 1"
				return []NodeInfo{node("w", img, oldImage, mco.StateDegraded, r)}
			}(),
			reason: NodeImageNotFound,
		},
		{
			name: "most severe wins, others summarised; more than 3 names",
			nodes: []NodeInfo{
				node("w-disk", target, oldImage, mco.StateDegraded, reasonDisk),
				node("w-a", target, oldImage, mco.StateDegraded, reasonAuthShape2),
				node("w-b", target, oldImage, mco.StateDegraded, reasonAuthShape2),
				node("w-c", target, oldImage, mco.StateDegraded, reasonAuthShape2),
				node("w-d", target, oldImage, mco.StateDegraded, reasonAuthShape2),
				node("w-e", target, oldImage, mco.StateDegraded, reasonAuthShape2),
			},
			reason: NodeImagePullAuth,
			inMsg:  []string{"5 nodes cannot pull the OS image (NodeImagePullAuth: w-a, w-b, w-c and 2 more)", "(also: NodeDiskFull on 1 node)"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, _ := DiagnosePool(layeredSnapshot(tc.nodes...))
			checkDiag(t, d, tc.reason, tc.inMsg, tc.inEv, nil)
			if d.Severity != SeverityError {
				t.Errorf("severity %s", d.Severity)
			}
		})
	}
}

func TestDiagnosePoolHealthy(t *testing.T) {
	// Not layered.
	s := layeredSnapshot(node("w", target, oldImage, mco.StateDegraded, reasonAuthShape2))
	s.Config = nil
	if d, p := DiagnosePool(s); !d.Healthy() || p.Encode() != (Progress{}).Encode() {
		t.Errorf("not layered: %+v %+v", d, p)
	}
	// Rolled out.
	s = layeredSnapshot(node("w-0", target, target, mco.StateDone, ""), node("w-1", target, target, mco.StateDone, ""))
	s.Pool = newPool(2, 2)
	s.Previous = Progress{UpdatedMachineCount: 1, Since: t0.Add(-5 * time.Hour), Image: imageKey(target)}
	d, p := DiagnosePool(s)
	if !d.Healthy() {
		t.Errorf("rolled out: %+v", d)
	}
	if !p.Since.IsZero() || len(p.NodeStateSince) != 0 {
		t.Errorf("rolled out progress: %+v", p)
	}
	// Rollout in progress, young.
	s = layeredSnapshot(node("w-0", target, target, mco.StateDone, ""), node("w-1", target, oldImage, mco.StateWorking, ""), node("w-2", oldImage, oldImage, mco.StateDone, ""))
	if d, _ := DiagnosePool(s); !d.Healthy() {
		t.Errorf("young rollout: %+v", d)
	}
	if d, _ := DiagnosePool(PoolSnapshot{}); !d.Healthy() {
		t.Errorf("nil pool: %+v", d)
	}
}

func TestDiagnosePoolRebootStuck(t *testing.T) {
	s := layeredSnapshot(
		node("w-0", target, oldImage, mco.StateRebooting, ""),
		node("w-1", target, oldImage, mco.StateWorking, ""),
		node("w-2", oldImage, oldImage, mco.StateWorking, ""), // config-only work, not tracked
		node("w-3", oldImage, oldImage, mco.StateDone, ""),
	)
	d, p := DiagnosePool(s)
	if !d.Healthy() {
		t.Fatalf("first sight: %+v", d)
	}
	if len(p.NodeStateSince) != 2 || !p.NodeStateSince["w-0"].Since.Equal(t0) || p.NodeStateSince["w-1"].State != mco.StateWorking {
		t.Fatalf("progress: %+v", p)
	}
	// 25 minutes later, after a checker restart (the Progress went through the annotation).
	prev, err := DecodeProgress(p.Encode())
	if err != nil {
		t.Fatal(err)
	}
	s.Previous, s.Now = prev, t0.Add(25*time.Minute)
	d, p2 := DiagnosePool(s)
	checkDiag(t, d, NodeRebootStuck, []string{"2 nodes stuck rebooting or updating (NodeRebootStuck: w-0, w-1; w-0 Rebooting for 25m)", "oc debug node/w-0"}, []string{"node w-0: state Rebooting for 25m"}, nil)
	if !p2.NodeStateSince["w-0"].Since.Equal(t0) {
		t.Errorf("clock reset: %+v", p2)
	}
	// w-0 moved on to Working: its clock restarts.
	s.Nodes[0] = node("w-0", target, oldImage, mco.StateWorking, "")
	s.Previous = p2
	_, p3 := DiagnosePool(s)
	if !p3.NodeStateSince["w-0"].Since.Equal(t0.Add(25 * time.Minute)) {
		t.Errorf("state change kept the clock: %+v", p3.NodeStateSince["w-0"])
	}
	s.Limits = RolloutLimits{RebootAfter: time.Hour}
	s.Previous = p2
	s.Nodes[0] = node("w-0", target, oldImage, mco.StateRebooting, "")
	if d, _ := DiagnosePool(s); d.Reason == NodeRebootStuck {
		t.Errorf("custom limit: %+v", d)
	}
}

func TestDiagnosePoolStall(t *testing.T) {
	nodes := []NodeInfo{
		node("w-0", target, target, mco.StateDone, ""),
		node("w-1", target, oldImage, mco.StateDone, ""), // handed the image, nothing happens (drain blocked)
		node("w-2", oldImage, oldImage, mco.StateDone, ""),
	}
	s := layeredSnapshot(nodes...)
	s.Pool = newPool(3, 1, poolCond(mcfgv1.MachineConfigPoolUpdating, corev1.ConditionTrue, "", ""))

	var enc string
	for i, step := range []time.Duration{0, 10 * time.Minute, 29 * time.Minute} {
		s.Now = t0.Add(step)
		d, p := DiagnosePool(s)
		if !d.Healthy() {
			t.Fatalf("step %d: %+v", i, d)
		}
		if !p.Since.Equal(t0) {
			t.Fatalf("step %d: Since %v", i, p.Since)
		}
		if i > 0 && p.Encode() != enc {
			t.Errorf("progress changed without a change: %s vs %s", p.Encode(), enc)
		}
		enc = p.Encode()
		// Every reconcile may be after a restart: the only memory is the encoded annotation.
		prev, err := DecodeProgress(enc)
		if err != nil {
			t.Fatal(err)
		}
		s.Previous = prev
	}
	s.Now = t0.Add(45 * time.Minute)
	d, p := DiagnosePool(s)
	checkDiag(t, d, RolloutStalled, []string{"rollout stalled at 1/3 updated machines for 45m (limit 30m)", "not yet on the new image: w-1, w-2", "PodDisruptionBudget"},
		[]string{"updatedMachineCount 1/3 unchanged since 2026-08-20T10:00:00Z"}, nil)
	if d.Severity != SeverityWarning {
		t.Errorf("severity %s", d.Severity)
	}
	if !p.Since.Equal(t0) {
		t.Errorf("Since %v", p.Since)
	}

	// Progress: the count moves, the clock restarts.
	s.Previous = p
	s.Pool.Status.UpdatedMachineCount = 2
	d, p = DiagnosePool(s)
	if !d.Healthy() || !p.Since.Equal(t0.Add(45*time.Minute)) {
		t.Errorf("after progress: %+v %+v", d, p)
	}

	// A new target image restarts the clock even at the same count.
	s.Previous = Progress{UpdatedMachineCount: 2, Since: t0.Add(-5 * time.Hour), Image: "000000000000"}
	if d, p = DiagnosePool(s); !d.Healthy() || !p.Since.Equal(t0.Add(45*time.Minute)) {
		t.Errorf("new image: %+v %+v", d, p)
	}

	// While the next build runs the clock does not run and Since is zero.
	s.Previous = Progress{UpdatedMachineCount: 2, Since: t0.Add(-5 * time.Hour), Image: imageKey(target)}
	s.LatestBuild = newMOSB(mosbConds(true, false, false, false, t0), t0)
	if d, p = DiagnosePool(s); !d.Healthy() || !p.Since.IsZero() {
		t.Errorf("build running: %+v %+v", d, p)
	}
}

func TestDiagnosePoolNotStarted(t *testing.T) {
	nodes := []NodeInfo{node("w-0", oldImage, oldImage, mco.StateDone, ""), node("w-1", oldImage, oldImage, mco.StateDone, "")}
	s := layeredSnapshot(nodes...)
	s.Pool = newPool(2, 0, poolCond(mcfgv1.MachineConfigPoolUpdating, corev1.ConditionFalse, "", ""))
	s.LatestBuild = succeededBuild(t0.Add(-5*time.Minute), target)
	if d, _ := DiagnosePool(s); !d.Healthy() {
		t.Errorf("5m: %+v", d)
	}
	s.LatestBuild = succeededBuild(t0.Add(-15*time.Minute), target)
	d, _ := DiagnosePool(s)
	checkDiag(t, d, RolloutNotStarted, []string{"MachineOSBuild " + mosbName + " succeeded 15m ago but no node has been given its image", "machine-config-controller"},
		[]string{"no node has desiredImage equal to it", "w-0, w-1"}, nil)
	if d.Severity != SeverityWarning {
		t.Errorf("severity %s", d.Severity)
	}
	// The pool is Updating: the MCO is working on it.
	s.Pool.Status.Conditions[0].Status = corev1.ConditionTrue
	if d, _ := DiagnosePool(s); d.Reason == RolloutNotStarted {
		t.Errorf("updating pool: %+v", d)
	}
	// The MachineOSConfig was never pointed at the new image.
	s.Pool.Status.Conditions[0].Status = corev1.ConditionFalse
	s.Config.Status.CurrentImagePullSpec = oldImage
	d, _ = DiagnosePool(s)
	checkDiag(t, d, RolloutNotStarted, []string{"still points at another image"}, []string{target}, nil)
}

func TestDiagnosePoolBuildFailed(t *testing.T) {
	s := layeredSnapshot(node("w-0", target, target, mco.StateDone, ""))
	s.Pool = newPool(1, 1, poolCond(mcfgv1.MachineConfigPoolImageBuildDegraded, corev1.ConditionTrue, "BuildFailed",
		"Failed to build OS image for pool worker (MachineOSBuild: worker-99aa): Failed: Build Failed"))
	failed := newMOSB(mosbConds(false, false, true, false, t0), t0.Add(-time.Hour))
	s.LatestBuild = failed
	d, _ := DiagnosePool(s)
	checkDiag(t, d, BuildFailedBlocksRollout, []string{"rollout blocked because MachineOSBuild worker-99aa failed", "ocl-guard.io/diagnosis annotation of MachineOSBuild worker-99aa"},
		[]string{"ImageBuildDegraded=True BuildFailed: Failed to build OS image for pool worker"}, nil)

	// A degraded node is more severe, the build failure is summarised.
	s.Nodes = append(s.Nodes, node("w-1", oldImage, oldImage, mco.StateDegraded, reasonOther))
	s.Pool.Status.MachineCount = 2
	d, _ = DiagnosePool(s)
	checkDiag(t, d, NodeDegraded, []string{"(also: BuildFailedBlocksRollout)"}, nil, nil)
}

func TestDiagnosePoolPausedAndConditionFallback(t *testing.T) {
	s := layeredSnapshot(node("w-0", oldImage, oldImage, mco.StateDone, ""), node("w-1", oldImage, oldImage, mco.StateDone, ""))
	s.Pool = newPool(2, 0)
	s.Pool.Spec.Paused = true
	s.Previous = Progress{UpdatedMachineCount: 0, Since: t0.Add(-5 * time.Hour), Image: imageKey(target)}
	d, p := DiagnosePool(s)
	checkDiag(t, d, RolloutPaused, []string{"pool worker is paused (spec.paused=true): 2 nodes not on the new image (w-0, w-1)", `oc patch mcp worker --type merge -p '{"spec":{"paused":false}}'`}, nil, nil)
	if d.Severity != SeverityInfo || !p.Since.IsZero() {
		t.Errorf("severity %s, progress %+v", d.Severity, p)
	}

	// No node list, but the pool's NodeDegraded condition quotes the node's reason (%q).
	s = layeredSnapshot()
	s.Pool = newPool(3, 2, poolCond(mcfgv1.MachineConfigPoolNodeDegraded, corev1.ConditionTrue, "1 nodes are reporting degraded status on sync",
		`Node ip-10-0-1-2.ec2.internal is reporting: "Failed to update OS to `+target+` after retries: timed out waiting for the condition"`))
	d, _ = DiagnosePool(s)
	checkDiag(t, d, NodeCauseNotRecorded, []string{"NodeCauseNotRecorded: ip-10-0-1-2.ec2.internal", "spec.nodeName=ip-10-0-1-2.ec2.internal"}, nil, nil)
}

func TestParseNodeReporting(t *testing.T) {
	n, r := parseNodeReporting(`Node a is reporting: "x \"q\" y", Node b is reporting: "z"`)
	if n != "a" || r != `x "q" y` {
		t.Errorf("%q %q", n, r)
	}
	if n, r = parseNodeReporting(`Node c is reporting: unquoted text`); n != "c" || r != "unquoted text" {
		t.Errorf("%q %q", n, r)
	}
	if n, _ = parseNodeReporting("all nodes fine"); n != "" {
		t.Errorf("%q", n)
	}
}
