package diagnose

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
)

// Node annotations written by the MCO's node controller (desired*) and machine-config-daemon (current*, state,
// reason).
const (
	AnnotationDesiredImage = "machineconfiguration.openshift.io/desiredImage"
	AnnotationCurrentImage = "machineconfiguration.openshift.io/currentImage"
	AnnotationState        = "machineconfiguration.openshift.io/state"
	AnnotationReason       = "machineconfiguration.openshift.io/reason"
)

// Values of the state annotation.
const (
	StateWorking        = "Working"
	StateDone           = "Done"
	StateDegraded       = "Degraded"
	StateRebooting      = "Rebooting"
	StateUnreconcilable = "Unreconcilable"
)

// NodeInfo is a metadata-only node.
type NodeInfo struct {
	Name        string
	Annotations map[string]string
}

// RolloutLimits are the thresholds of the rollout rules.
type RolloutLimits struct {
	// StartAfter: a succeeded build whose image no node has been given after this long is RolloutNotStarted.
	StartAfter time.Duration
	// StallAfter: updatedMachineCount unchanged this long during a rollout is RolloutStalled.
	StallAfter time.Duration
	// RebootAfter: a node Rebooting (or Working on a new image) this long is NodeRebootStuck.
	RebootAfter time.Duration
}

// DefaultRolloutLimits returns StartAfter 10m, StallAfter 30m, RebootAfter 20m.
func DefaultRolloutLimits() RolloutLimits {
	return RolloutLimits{StartAfter: 10 * time.Minute, StallAfter: 30 * time.Minute, RebootAfter: 20 * time.Minute}
}

func (l RolloutLimits) withDefaults() RolloutLimits {
	d := DefaultRolloutLimits()
	if l.StartAfter <= 0 {
		l.StartAfter = d.StartAfter
	}
	if l.StallAfter <= 0 {
		l.StallAfter = d.StallAfter
	}
	if l.RebootAfter <= 0 {
		l.RebootAfter = d.RebootAfter
	}
	return l
}

// PoolSnapshot is everything DiagnosePool looks at.
type PoolSnapshot struct {
	Pool *mcfgv1.MachineConfigPool
	// Config is the pool's MachineOSConfig; nil means the pool is not layered (Reason "").
	Config *mcfgv1.MachineOSConfig
	// LatestBuild is the MachineOSBuild for the pool's current rendered config, nil if none.
	LatestBuild *mcfgv1.MachineOSBuild
	// Nodes are the pool's nodes.
	Nodes []NodeInfo
	// Previous is the Progress returned by the previous reconcile (decoded from the pool annotation).
	Previous Progress
	Now      time.Time
	Limits   RolloutLimits
}

// poolRank orders the pool reasons, most severe first; the pool's Reason is the first one found.
var poolRank = [...]Reason{
	NodeImagePullAuth, NodeImageNotFound, NodeRegistryUnreachable, NodeDiskFull, NodeCauseNotRecorded, NodeDegraded,
	BuildFailedBlocksRollout, NodeRebootStuck, RolloutStalled, RolloutNotStarted, RolloutPaused,
}

func poolRankIndex(r Reason) int {
	for i, x := range poolRank {
		if x == r {
			return i
		}
	}
	return len(poolRank)
}

// nodeGroup collects the nodes with one reason.
type nodeGroup struct {
	count    int
	names    [3]string
	evidence string // of the first node
	detail   string // short quote for the message
	image    string // desired image of the first node
}

// add counts a node; evidence is called for the first node only.
func (g *nodeGroup) add(name, image string, evidence func() (ev, detail string)) {
	if g.count < len(g.names) {
		g.names[g.count] = name
	}
	if g.count == 0 {
		g.evidence, g.detail = evidence()
		g.image = image
	}
	g.count++
}

func (g *nodeGroup) nameList() string { return nameList(g.names[:], g.count) }

// nodeClassifier maps node reason annotations to Reasons, reusing its buffers across nodes.
type nodeClassifier struct {
	buf, tmp []byte
	cache    map[string][2][]byte // image → lowered image and lowered repository
}

func (c *nodeClassifier) lowered(img string) [2][]byte {
	if v, ok := c.cache[img]; ok {
		return v
	}
	if c.cache == nil {
		c.cache = make(map[string][2][]byte, 2)
	}
	v := [2][]byte{lowerASCII(nil, img)}
	if repo := imageRepo(img); repo != img && strings.IndexByte(repo, '/') > 0 {
		v[1] = lowerASCII(nil, repo)
	}
	c.cache[img] = v
	return v
}

func (c *nodeClassifier) classify(reason string, images ...string) Reason {
	c.buf = lowerASCII(c.buf, reason)
	for _, img := range images {
		if img == "" {
			continue
		}
		low := c.lowered(img)
		c.blank(low[0], "<img>")
		if low[1] != nil {
			c.blank(low[1], "<repo>")
		}
	}
	l := c.buf
	switch classifyText(l, dirNone) {
	case clsNodeNoCause:
		return NodeCauseNotRecorded
	case clsNodeAuth:
		return NodeImagePullAuth
	case clsNodeNotFound:
		return NodeImageNotFound
	case clsNodeDisk:
		return NodeDiskFull
	case clsNodeUnreachable:
		return NodeRegistryUnreachable
	}
	if nodeDisk.Match(l) {
		return NodeDiskFull
	}
	return NodeDegraded
}

// blank replaces every old in c.buf by repl, without allocating once the buffers have grown.
func (c *nodeClassifier) blank(old []byte, repl string) {
	if len(old) == 0 || !bytes.Contains(c.buf, old) {
		return
	}
	c.tmp = c.tmp[:0]
	rest := c.buf
	for {
		i := bytes.Index(rest, old)
		if i < 0 {
			break
		}
		c.tmp = append(c.tmp, rest[:i]...)
		c.tmp = append(c.tmp, repl...)
		rest = rest[i+len(old):]
	}
	c.tmp = append(c.tmp, rest...)
	c.buf, c.tmp = c.tmp, c.buf
}

// imageRepo strips the digest and tag of an image reference.
func imageRepo(ref string) string {
	if i := strings.IndexByte(ref, '@'); i >= 0 {
		ref = ref[:i]
	}
	return repoOf(ref)
}

func poolCondition(p *mcfgv1.MachineConfigPool, t mcfgv1.MachineConfigPoolConditionType) *mcfgv1.MachineConfigPoolCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == t {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

func poolCondTrue(p *mcfgv1.MachineConfigPool, t mcfgv1.MachineConfigPoolConditionType) *mcfgv1.MachineConfigPoolCondition {
	if c := poolCondition(p, t); c != nil && c.Status == corev1.ConditionTrue {
		return c
	}
	return nil
}

var (
	mosbInMessageRe    = regexp.MustCompile(`\((?:MachineOSBuild|mosb): ([^)\s]+)\)`)
	nodeReportingRe    = regexp.MustCompile(`Node (\S+) is reporting: ("(?:[^"\\]|\\.)*")`)
	nodeReportingRawRe = regexp.MustCompile(`Node (\S+) is reporting: (.*)`)
)

type poolCandidate struct {
	reason   Reason
	message  string
	evidence string
	summary  string // for "also: ..." in another reason's message
}

// DiagnosePool diagnoses the rollout of a layered pool's image and returns the Progress to remember.
func DiagnosePool(s PoolSnapshot) (Diagnosis, Progress) {
	if s.Pool == nil || s.Config == nil {
		return Diagnosis{}, Progress{}
	}
	lim := s.Limits.withDefaults()
	now := s.Now.UTC().Truncate(time.Second)
	pool := s.Pool.Name
	subj := "pool " + pool
	target := string(s.Config.Status.CurrentImagePullSpec)
	host := registryHost(target)
	mosc := s.Config.Name
	next := Progress{UpdatedMachineCount: s.Pool.Status.UpdatedMachineCount, Image: imageKey(target)}

	var groups [len(poolRank)]nodeGroup
	var nc nodeClassifier
	onTarget, desiredTarget := 0, false
	var pendingNames [3]string
	pending := 0
	for i := range s.Nodes {
		n := &s.Nodes[i]
		a := n.Annotations
		desired, current, state := a[AnnotationDesiredImage], a[AnnotationCurrentImage], a[AnnotationState]
		if target != "" && desired == target {
			desiredTarget = true
		}
		if target != "" && current == target && state == StateDone {
			onTarget++
		} else {
			if pending < len(pendingNames) {
				pendingNames[pending] = n.Name
			}
			pending++
		}
		switch state {
		case StateDegraded, StateUnreconcilable:
			reason := a[AnnotationReason]
			r := nc.classify(reason, desired, target)
			groups[poolRankIndex(r)].add(n.Name, desired, func() (string, string) {
				return fmt.Sprintf("node %s (%s): %s", n.Name, state, reason), reason
			})
		case StateRebooting, StateWorking:
			if state == StateWorking && (desired == "" || desired == current) {
				break
			}
			since := now
			if prev, ok := s.Previous.NodeStateSince[n.Name]; ok && prev.State == state && !prev.Since.IsZero() && !prev.Since.After(now) {
				since = prev.Since.UTC()
			}
			if next.NodeStateSince == nil {
				next.NodeStateSince = make(map[string]StateSince)
			}
			next.NodeStateSince[n.Name] = StateSince{State: state, Since: since}
			if age := now.Sub(since); age > lim.RebootAfter {
				groups[poolRankIndex(NodeRebootStuck)].add(n.Name, desired, func() (string, string) {
					return fmt.Sprintf("node %s: state %s for %s (since %s), desiredImage %s, currentImage %s", n.Name, state, humanDuration(age), since.Format(time.RFC3339), desired, current),
						fmt.Sprintf("%s for %s", state, humanDuration(age))
				})
			}
		}
	}

	// The pool condition names a degraded node even when the node list is missing.
	if !anyNodeDegraded(&groups) {
		if c := poolCondTrue(s.Pool, mcfgv1.MachineConfigPoolNodeDegraded); c != nil {
			name, reason := parseNodeReporting(c.Message)
			if name != "" {
				groups[poolRankIndex(nc.classify(reason, target))].add(name, target, func() (string, string) {
					return "node " + name + ": " + reason, reason
				})
			}
		}
	}

	var cands []poolCandidate
	for i, r := range poolRank {
		g := &groups[i]
		if g.count == 0 {
			continue
		}
		cands = append(cands, poolCandidate{
			reason:   r,
			message:  nodeGroupMessage(r, g, subj, host, mosc),
			evidence: g.evidence,
			summary:  fmt.Sprintf("%s on %s", r, plural(g.count, "node")),
		})
	}

	// Build state.
	buildDegraded := poolCondTrue(s.Pool, mcfgv1.MachineConfigPoolImageBuildDegraded)
	var buildInProgress, buildSucceeded bool
	var buildDone time.Time
	if b := s.LatestBuild; b != nil {
		conds := b.Status.Conditions
		succ := condTrue(conds, mcfgv1.MachineOSBuildSucceeded)
		terminal := succ != nil || condTrue(conds, mcfgv1.MachineOSBuildFailed) != nil || condTrue(conds, mcfgv1.MachineOSBuildInterrupted) != nil
		buildInProgress = !terminal
		if succ != nil {
			buildSucceeded = true
			buildDone = succ.LastTransitionTime.Time
			if b.Status.BuildEnd != nil && !b.Status.BuildEnd.IsZero() {
				buildDone = b.Status.BuildEnd.Time
			}
		}
	}
	if buildDegraded != nil {
		mosb := ""
		if m := mosbInMessageRe.FindStringSubmatch(buildDegraded.Message); m != nil {
			mosb = m[1]
		} else if s.LatestBuild != nil {
			mosb = s.LatestBuild.Name
		} else if s.Config.Status.MachineOSBuild != nil {
			mosb = s.Config.Status.MachineOSBuild.Name
		}
		what := "the latest image build failed"
		see := "see the failed MachineOSBuild's ocl-guard.io/diagnosis annotation (oc get machineosbuild -o wide)"
		if mosb != "" {
			what = "MachineOSBuild " + mosb + " failed"
			see = fmt.Sprintf("see the ocl-guard.io/diagnosis annotation of MachineOSBuild %s (oc describe machineosbuild %s)", mosb, mosb)
		}
		cands = append(cands, poolCandidate{
			reason:   BuildFailedBlocksRollout,
			message:  fmt.Sprintf("%s: rollout blocked because %s, the pool stays on its previous image; %s", subj, what, see),
			evidence: "ImageBuildDegraded=True " + conditionText(buildDegraded.Reason, buildDegraded.Message),
			summary:  string(BuildFailedBlocksRollout),
		})
	}

	paused := s.Pool.Spec.Paused
	updating := poolCondTrue(s.Pool, mcfgv1.MachineConfigPoolUpdating) != nil
	rolledOut := target != "" && len(s.Nodes) > 0 && onTarget == len(s.Nodes)
	updated, total := s.Pool.Status.UpdatedMachineCount, s.Pool.Status.MachineCount
	pendingList := nameList(pendingNames[:], pending)

	// RolloutNotStarted: the image exists but nothing moves towards it.
	notStarted := false
	if buildSucceeded && buildDegraded == nil && !paused && !buildDone.IsZero() && now.Sub(buildDone) > lim.StartAfter {
		b := s.LatestBuild
		digest := string(b.Status.DigestedImagePushSpec)
		switch {
		case digest != "" && digest != target && (b.Spec.MachineOSConfig.Name == "" || b.Spec.MachineOSConfig.Name == mosc):
			notStarted = true
			cands = append(cands, poolCandidate{
				reason: RolloutNotStarted,
				message: fmt.Sprintf("%s: MachineOSBuild %s succeeded %s ago but MachineOSConfig %s still points at another image (status.currentImagePullSpec); read the machine-config-controller log (oc logs -n %s deployment/machine-config-controller -c machine-config-controller)",
					subj, b.Name, humanDuration(now.Sub(buildDone)), mosc, MCONamespace),
				evidence: fmt.Sprintf("MachineOSBuild %s digestedImagePushSpec %s; MachineOSConfig %s currentImagePullSpec %q", b.Name, digest, mosc, target),
				summary:  string(RolloutNotStarted),
			})
		case target != "" && !desiredTarget && !updating && !rolledOut:
			notStarted = true
			cands = append(cands, poolCandidate{
				reason: RolloutNotStarted,
				message: fmt.Sprintf("%s: MachineOSBuild %s succeeded %s ago but no node has been given its image and the pool is not Updating; read the machine-config-controller log (oc logs -n %s deployment/machine-config-controller -c machine-config-controller) and check the pool's node selector",
					subj, b.Name, humanDuration(now.Sub(buildDone)), MCONamespace),
				evidence: fmt.Sprintf("currentImagePullSpec %s; no node has desiredImage equal to it (%s not updated: %s)", target, plural(pending, "node"), pendingList),
				summary:  string(RolloutNotStarted),
			})
		}
	}

	// RolloutStalled: the stall clock runs only while a rollout can progress.
	if target != "" && !rolledOut && updated < total && !paused && !buildInProgress && buildDegraded == nil {
		next.Since = now
		if p := s.Previous; !p.Since.IsZero() && p.UpdatedMachineCount == updated && sameImage(p.Image, target) && !p.Since.After(now) {
			next.Since = p.Since.UTC()
		}
		if age := now.Sub(next.Since); age >= lim.StallAfter && !notStarted {
			cands = append(cands, poolCandidate{
				reason: RolloutStalled,
				message: fmt.Sprintf("%s: rollout stalled at %d/%d updated machines for %s (limit %s); not yet on the new image: %s; check oc describe mcp %s for a drain blocked by a PodDisruptionBudget or an unavailable node holding maxUnavailable",
					subj, updated, total, humanDuration(age), humanDuration(lim.StallAfter), pendingList, pool),
				evidence: fmt.Sprintf("updatedMachineCount %d/%d unchanged since %s; readyMachineCount %d, unavailableMachineCount %d, degradedMachineCount %d",
					updated, total, next.Since.Format(time.RFC3339), s.Pool.Status.ReadyMachineCount, s.Pool.Status.UnavailableMachineCount, s.Pool.Status.DegradedMachineCount),
				summary: string(RolloutStalled),
			})
		}
	}

	if paused && target != "" && !rolledOut {
		cands = append(cands, poolCandidate{
			reason: RolloutPaused,
			message: fmt.Sprintf("%s is paused (spec.paused=true): %s not on the new image (%s); unpause when ready: oc patch mcp %s --type merge -p '{\"spec\":{\"paused\":false}}'",
				subj, plural(pending, "node"), pendingList, pool),
			evidence: "currentImagePullSpec " + target,
			summary:  string(RolloutPaused),
		})
	}

	if len(cands) == 0 {
		return Diagnosis{}, next
	}
	best := 0
	for i := range cands {
		if poolRankIndex(cands[i].reason) < poolRankIndex(cands[best].reason) {
			best = i
		}
	}
	msg := cands[best].message
	var also []string
	for i := range cands {
		if i != best && len(also) < 3 {
			also = append(also, cands[i].summary)
		}
	}
	if len(also) > 0 {
		msg += " (also: " + strings.Join(also, ", ") + ")"
	}
	return newDiagnosis(cands[best].reason, "", msg, cands[best].evidence), next
}

// anyNodeDegraded reports whether a Degraded/Unreconcilable node was found (the reasons ranked up to NodeDegraded).
func anyNodeDegraded(groups *[len(poolRank)]nodeGroup) bool {
	for i := 0; i <= poolRankIndex(NodeDegraded); i++ {
		if groups[i].count > 0 {
			return true
		}
	}
	return false
}

func nameList(names []string, count int) string {
	n := count
	if n > len(names) {
		n = len(names)
	}
	if n == 0 {
		return "none"
	}
	s := strings.Join(names[:n], ", ")
	if count > n {
		s += fmt.Sprintf(" and %d more", count-n)
	}
	return s
}

// parseNodeReporting reads the pool's NodeDegraded message `Node <node> is reporting: "<reason>"`.
func parseNodeReporting(msg string) (node, reason string) {
	if m := nodeReportingRe.FindStringSubmatch(msg); m != nil {
		if r, err := strconv.Unquote(m[2]); err == nil {
			return m[1], r
		}
	}
	if m := nodeReportingRawRe.FindStringSubmatch(msg); m != nil {
		return m[1], m[2]
	}
	return "", ""
}

func mcdLogCmd(node string) string {
	return fmt.Sprintf("oc logs -n %s -c machine-config-daemon $(oc get pod -n %s -l k8s-app=machine-config-daemon --field-selector spec.nodeName=%s -o name)",
		MCONamespace, MCONamespace, node)
}

func nodeGroupMessage(r Reason, g *nodeGroup, subj, host, mosc string) string {
	if g.image != "" {
		host = registryHost(g.image)
	}
	n := plural(g.count, "node")
	names := g.nameList()
	first := g.names[0]
	switch r {
	case NodeImagePullAuth:
		return fmt.Sprintf("%s: %s cannot pull the OS image (%s: %s); check the cluster pull secret (openshift-config/pull-secret) for %s: nodes pull with it, not with the push secret",
			subj, n, r, names, host)
	case NodeImageNotFound:
		return fmt.Sprintf("%s: %s cannot find the OS image in %s (%s: %s), it was deleted or pruned; restore it or force a rebuild: oc annotate machineosconfig/%s machineconfiguration.openshift.io/rebuild=",
			subj, n, host, r, names, mosc)
	case NodeRegistryUnreachable:
		return fmt.Sprintf("%s: %s cannot reach registry %s (%s: %s); check DNS, proxy, firewall and trusted CAs from the nodes to %s",
			subj, n, host, r, names, host)
	case NodeDiskFull:
		return fmt.Sprintf("%s: %s ran out of disk space pulling the OS image (%s: %s); free space on the node's /sysroot (e.g. unused container images), the machine-config-daemon retries",
			subj, n, r, names)
	case NodeCauseNotRecorded:
		return fmt.Sprintf("%s: %s failed to update the OS after retries and this MCO version did not record the cause (%s: %s); read it in the machine-config-daemon log (lines \"will retry\"): %s",
			subj, n, r, names, mcdLogCmd(first))
	case NodeDegraded:
		return fmt.Sprintf("%s: %s degraded (%s: %s): %q; see the machine-config-daemon log: %s",
			subj, n, r, names, short(g.detail, 200), mcdLogCmd(first))
	case NodeRebootStuck:
		return fmt.Sprintf("%s: %s stuck rebooting or updating (%s: %s; %s %s); check the node console, its Machine (oc get machines -n openshift-machine-api) and oc debug node/%s",
			subj, n, r, names, first, g.detail, first)
	}
	return fmt.Sprintf("%s: %s %s (%s)", subj, n, r, names)
}
