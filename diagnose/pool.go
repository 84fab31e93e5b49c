package diagnose

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ocl-guard/ocl-guard/mco"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
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
	return RolloutLimits{
		StartAfter:  limitOr(l.StartAfter, d.StartAfter),
		StallAfter:  limitOr(l.StallAfter, d.StallAfter),
		RebootAfter: limitOr(l.RebootAfter, d.RebootAfter),
	}
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

// poolView is what the rollout rules read: the nodes grouped by reason, the latest build's state and the stall
// clock, worked out once per snapshot.
type poolView struct {
	s                  PoolSnapshot
	lim                RolloutLimits
	now                time.Time
	subj, target, host string
	mosc               string
	next               Progress
	groups             map[Reason]*nodeGroup
	onTarget, pending  int
	desiredTarget      bool
	pendingNames       [3]string
	buildDegraded      *mcfgv1.MachineConfigPoolCondition
	buildPhase         mco.BuildPhase
	buildDone          time.Time // when the latest build succeeded
	hasBuild           bool
}

func newPoolView(s PoolSnapshot) *poolView {
	v := &poolView{s: s, lim: s.Limits.withDefaults(), now: s.Now.UTC().Truncate(time.Second), subj: "pool " + s.Pool.Name,
		target: string(s.Config.Status.CurrentImagePullSpec), mosc: s.Config.Name, groups: map[Reason]*nodeGroup{}}
	v.host = registryHost(v.target)
	v.next = Progress{UpdatedMachineCount: s.Pool.Status.UpdatedMachineCount, Image: imageKey(v.target)}
	v.buildDegraded = mco.PoolCondition(s.Pool, mcfgv1.MachineConfigPoolImageBuildDegraded)
	if b := s.LatestBuild; b != nil {
		v.hasBuild = true
		v.buildPhase, _ = mco.PhaseOf(b, nil)
		if succ := mco.ConditionTrue(b.Status.Conditions, mcfgv1.MachineOSBuildSucceeded); succ != nil {
			v.buildDone = succ.LastTransitionTime.Time
			if b.Status.BuildEnd != nil && !b.Status.BuildEnd.IsZero() {
				v.buildDone = b.Status.BuildEnd.Time
			}
		}
	}
	v.groupNodes()
	v.runStallClock()
	return v
}

func (v *poolView) group(r Reason) *nodeGroup {
	g := v.groups[r]
	if g == nil {
		g = &nodeGroup{}
		v.groups[r] = g
	}
	return g
}

// groupNodes sorts the nodes into reason groups and counts those not yet on the target image.
func (v *poolView) groupNodes() {
	var nc nodeClassifier
	for i := range v.s.Nodes {
		n := &v.s.Nodes[i]
		a := n.Annotations
		desired, current, state := a[mco.AnnotationDesiredImage], a[mco.AnnotationCurrentImage], a[mco.AnnotationState]
		if v.target != "" && desired == v.target {
			v.desiredTarget = true
		}
		if v.target != "" && current == v.target && state == mco.StateDone {
			v.onTarget++
		} else {
			keepFirstNames(v.pendingNames[:], v.pending, n.Name)
			v.pending++
		}
		switch state {
		case mco.StateDegraded, mco.StateUnreconcilable:
			reason := a[mco.AnnotationReason]
			v.group(nc.classify(reason, desired, v.target)).add(n.Name, desired, func() (string, string) {
				return fmt.Sprintf("node %s (%s): %s", n.Name, state, reason), reason
			})
		case mco.StateRebooting, mco.StateWorking:
			if state == mco.StateWorking && (desired == "" || desired == current) {
				break
			}
			v.trackNodeState(n.Name, state, desired, current)
		}
	}
	// The pool condition names a degraded node even when the node list is missing.
	if !v.anyNodeDegraded() {
		if c := mco.PoolCondition(v.s.Pool, mcfgv1.MachineConfigPoolNodeDegraded); c != nil {
			if name, reason := parseNodeReporting(c.Message); name != "" {
				v.group(nc.classify(reason, v.target)).add(name, v.target, func() (string, string) {
					return "node " + name + ": " + reason, reason
				})
			}
		}
	}
}

// trackNodeState carries the time a node entered Rebooting/Working over reconciles and groups it as stuck after
// RebootAfter.
func (v *poolView) trackNodeState(name, state, desired, current string) {
	since := v.now
	if prev, ok := v.s.Previous.NodeStateSince[name]; ok && prev.State == state && !prev.Since.IsZero() && !prev.Since.After(v.now) {
		since = prev.Since.UTC()
	}
	if v.next.NodeStateSince == nil {
		v.next.NodeStateSince = make(map[string]StateSince)
	}
	v.next.NodeStateSince[name] = StateSince{State: state, Since: since}
	if age := v.now.Sub(since); age > v.lim.RebootAfter {
		v.group(NodeRebootStuck).add(name, desired, func() (string, string) {
			return fmt.Sprintf("node %s: state %s for %s (since %s), desiredImage %s, currentImage %s", name, state, humanDuration(age), since.Format(time.RFC3339), desired, current),
				fmt.Sprintf("%s for %s", state, humanDuration(age))
		})
	}
}

// anyNodeDegraded reports whether a Degraded/Unreconcilable node was found.
func (v *poolView) anyNodeDegraded() bool {
	for _, r := range nodeCauseReasons() {
		if g := v.groups[r]; g != nil && g.count > 0 {
			return true
		}
	}
	return false
}

// runStallClock starts or carries the stall clock; it runs only while a rollout can progress.
func (v *poolView) runStallClock() {
	st := v.s.Pool.Status
	buildInProgress := v.hasBuild && !v.buildPhase.Terminal()
	if v.target == "" || v.rolledOut() || st.UpdatedMachineCount >= st.MachineCount || v.s.Pool.Spec.Paused || buildInProgress || v.buildDegraded != nil {
		return
	}
	v.next.Since = v.now
	if p := v.s.Previous; !p.Since.IsZero() && p.UpdatedMachineCount == st.UpdatedMachineCount && sameImage(p.Image, v.target) && !p.Since.After(v.now) {
		v.next.Since = p.Since.UTC()
	}
}

func (v *poolView) rolledOut() bool {
	return v.target != "" && len(v.s.Nodes) > 0 && v.onTarget == len(v.s.Nodes)
}

func (v *poolView) pendingList() string { return nameList(v.pendingNames[:], v.pending) }

// notStarted: the latest build succeeded StartAfter ago, and either the MachineOSConfig points elsewhere or no node
// was given the image while the pool is not Updating.
func (v *poolView) notStarted() bool {
	if v.buildPhase != mco.PhaseSucceeded || !v.hasBuild || v.buildDegraded != nil || v.s.Pool.Spec.Paused || v.buildDone.IsZero() || v.now.Sub(v.buildDone) <= v.lim.StartAfter {
		return false
	}
	updating := mco.PoolCondition(v.s.Pool, mcfgv1.MachineConfigPoolUpdating) != nil
	return v.pointsElsewhere() || v.target != "" && !v.desiredTarget && !updating && !v.rolledOut()
}

// pointsElsewhere: the latest build of this MachineOSConfig pushed an image that is not its currentImagePullSpec.
func (v *poolView) pointsElsewhere() bool {
	b := v.s.LatestBuild
	digest := string(b.Status.DigestedImagePushSpec)
	return digest != "" && digest != v.target && (b.Spec.MachineOSConfig.Name == "" || b.Spec.MachineOSConfig.Name == v.mosc)
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
// The quoted node is the first by name, not by list order: caches list in no fixed order, and a message that
// changed with it would be rewritten on every reconcile.
func (g *nodeGroup) add(name, image string, evidence func() (ev, detail string)) {
	if g.count == 0 || name < g.names[0] {
		g.evidence, g.detail = evidence()
		g.image = image
	}
	keepFirstNames(g.names[:], g.count, name)
	g.count++
}

// keepFirstNames inserts name into names, which holds the alphabetically first of the count names seen so far.
func keepFirstNames(names []string, count int, name string) {
	n := min(count, len(names))
	i := sort.SearchStrings(names[:n], name)
	if i >= len(names) {
		return
	}
	if n < len(names) {
		n++
	}
	copy(names[i+1:n], names[i:n-1])
	names[i] = name
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
	if r := causeOf(classifyNodeText(newLineText(c.buf, dirNone))).reason; r != "" {
		return r
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

var (
	mosbInMessageRe    = regexp.MustCompile(`\((?:MachineOSBuild|mosb): ([^)\s]+)\)`)
	nodeReportingRe    = regexp.MustCompile(`Node (\S+) is reporting: ("(?:[^"\\]|\\.)*")`)
	nodeReportingRawRe = regexp.MustCompile(`Node (\S+) is reporting: (.*)`)
)

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
		mco.Namespace, mco.Namespace, node)
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
	case NodeImagePolicyRejected:
		return fmt.Sprintf("%s: %s refuse the OS image: the nodes' signature policy rejects it and OCL does not sign what it builds (%s: %s); exempt the push spec's repository from the signature requirement (ClusterImagePolicy/ImagePolicy), or sign the image and trust its key",
			subj, n, r, names)
	case NodeImageContentInvalid:
		return fmt.Sprintf("%s: %s cannot import the OS image's content (%s: %s): %q; remove what the Containerfile leaves in /var (dnf caches, build logs; hardlinks there break ostree's import) and rebuild: oc annotate machineosconfig/%s machineconfiguration.openshift.io/rebuild=",
			subj, n, r, names, short(g.detail, 200), mosc)
	case NodeImageNotBootable:
		return fmt.Sprintf("%s: %s found no kernel in the OS image (%s: %s); keep exactly one kernel in /usr/lib/modules/<kver> in spec.containerFile of MachineOSConfig %s and rebuild",
			subj, n, r, names, mosc)
	case NodeUnitMissing:
		return fmt.Sprintf("%s: %s cannot enable a systemd unit the layered image does not ship (%s: %s): %q; install the package that ships it in spec.containerFile of MachineOSConfig %s, or stop enabling it in the MachineConfig",
			subj, n, r, names, short(g.detail, 200), mosc)
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
