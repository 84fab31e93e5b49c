package mustgathertest

import (
	"slices"
	"strings"

	"github.com/ocl-guard/ocl-guard/findings"
	"github.com/ocl-guard/ocl-guard/mustgather"
	"github.com/ocl-guard/ocl-guard/status"
)

// WithoutNotJudged returns the live and offline reports of one cluster as they should then be equal: without the
// findings the offline report did not judge (mustgather.NotJudged), and without the live findings of those rules.
func WithoutNotJudged(live, offline []status.Report) ([]status.Report, []status.Report) {
	notJudged := map[string]map[findings.RuleID]bool{}
	for _, r := range offline {
		for _, f := range r.Config.Findings {
			if f.Outcome == findings.Skip && strings.HasPrefix(f.Message, mustgather.NotJudged) {
				if notJudged[r.Pool] == nil {
					notJudged[r.Pool] = map[findings.RuleID]bool{}
				}
				notJudged[r.Pool][f.Rule] = true
			}
		}
	}
	drop := func(reports []status.Report) []status.Report {
		out := slices.Clone(reports)
		for i := range out {
			out[i].Config.Findings = slices.DeleteFunc(slices.Clone(out[i].Config.Findings), func(f status.Finding) bool {
				return notJudged[out[i].Pool][f.Rule]
			})
		}
		return out
	}
	return drop(live), drop(offline)
}
