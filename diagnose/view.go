package diagnose

import (
	"slices"

	"github.com/ocl-guard/ocl-guard/mco"
)

// What `ocl-guard status` shows besides the diagnoses: the pool's node problems, grouped by the same code the pool
// diagnosis uses (a build's phase is mco.PhaseOf).

// NodeProblem is the nodes of a pool that report one problem.
type NodeProblem struct {
	Reason Reason
	// Nodes are the node names, sorted.
	Nodes []string
	// Detail is the first node's reason annotation, scrubbed and bounded.
	Detail string
}

// NodeProblems groups a pool's Degraded and Unreconcilable nodes by reason, classified as DiagnosePool classifies
// them, most severe first.
func NodeProblems(s PoolSnapshot) []NodeProblem {
	if s.Pool == nil || s.Config == nil {
		return nil
	}
	target := string(s.Config.Status.CurrentImagePullSpec)
	var nc nodeClassifier
	byReason := map[Reason]*NodeProblem{}
	for _, n := range s.Nodes {
		state := n.Annotations[mco.AnnotationState]
		if state != mco.StateDegraded && state != mco.StateUnreconcilable {
			continue
		}
		reason := n.Annotations[mco.AnnotationReason]
		r := nc.classify(reason, n.Annotations[mco.AnnotationDesiredImage], target)
		p := byReason[r]
		if p == nil {
			p = &NodeProblem{Reason: r, Detail: cleanEvidence(reason)}
			byReason[r] = p
		}
		p.Nodes = append(p.Nodes, n.Name)
	}
	out := make([]NodeProblem, 0, len(byReason))
	for _, p := range byReason {
		slices.Sort(p.Nodes)
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b NodeProblem) int { return poolChain.rankOf(a.Reason) - poolChain.rankOf(b.Reason) })
	return out
}
