package validators

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/ocl-guard/ocl-guard/registry"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// MaxWarningLength is the length Kubernetes recommends for one admission warning; longer ones are shortened.
const MaxWarningLength = 120

// ActionFor tells the action configured for a rule.
type ActionFor func(RuleID) Action

// RuleResult is what one rule found, with the action that was in force.
type RuleResult struct {
	Rule     RuleID
	Action   Action
	Findings Findings
}

// Verdict is the outcome of running every enabled rule on one object.
type Verdict struct {
	Results []RuleResult
}

// Evaluate runs every rule whose action is not off. Lookups are shared between rules, so each Secret and pool is
// read at most once per call.
//
// A MachineOSConfig over the CRD's own limits is refused before any rule parses it (see RuleCRDBounds).
func Evaluate(ctx context.Context, mosc *mcfgv1.MachineOSConfig, lookups Lookups, actions ActionFor) Verdict {
	if errs := CheckCRDBounds(mosc); len(errs) > 0 {
		return Verdict{Results: []RuleResult{{Rule: RuleCRDBounds, Action: ActionDeny, Findings: Findings{Errs: errs}}}}
	}
	memo := newMemoLookups(lookups)
	var v Verdict
	for _, rule := range Stage1Rules() {
		action := actions(rule.ID)
		if action == ActionOff {
			continue
		}
		findings := rule.Validate(ctx, mosc, memo)
		v.Results = append(v.Results, RuleResult{Rule: rule.ID, Action: action, Findings: findings})
	}
	return v
}

// Denials returns the errors of rules whose action is deny, each detail ending in its rule's ID so that a reader
// can grep the rule from the message. The findings themselves stay untagged.
func (v Verdict) Denials() field.ErrorList {
	var errs field.ErrorList
	for _, r := range v.Results {
		if r.Action != ActionDeny {
			continue
		}
		for _, err := range r.Findings.Errs {
			tagged := *err
			tagged.Detail = withRuleID(err.Detail, r.Rule)
			errs = append(errs, &tagged)
		}
	}
	return errs
}

// Warnings returns every rule's warnings, plus the errors of rules whose action is warn, as admission warnings:
// lines of at most MaxWarningLength characters that start with their rule ID.
func (v Verdict) Warnings() []string { return wrapAll(v.warnings(false)) }

// AllAsWarnings is Warnings with the errors of deny rules included too: for requests that must not be refused.
func (v Verdict) AllAsWarnings() []string { return wrapAll(v.warnings(true)) }

// WarningMessages is Warnings with each message whole, for output without a line limit (the CLI).
func (v Verdict) WarningMessages() []string {
	var out []string
	for _, w := range v.warnings(false) {
		out = append(out, fmt.Sprintf("[%s] %s", w.rule, w.text))
	}
	return out
}

type ruleMessage struct {
	rule RuleID
	text string
}

func (v Verdict) warnings(includeDenials bool) []ruleMessage {
	var out []ruleMessage
	for _, r := range v.Results {
		if r.Action == ActionWarn || includeDenials {
			for _, err := range r.Findings.Errs {
				out = append(out, ruleMessage{r.Rule, err.Field + ": " + err.Detail})
			}
		}
		for _, w := range r.Findings.Warnings {
			out = append(out, ruleMessage{r.Rule, w})
		}
	}
	return out
}

func wrapAll(messages []ruleMessage) []string {
	var out []string
	for _, m := range messages {
		out = append(out, wrapWarning(m.rule, m.text)...)
	}
	return out
}

// withRuleID tags an error's detail with the rule that produced it, so a reader can grep the rule from a message.
func withRuleID(detail string, id RuleID) string {
	if detail == "" {
		return fmt.Sprintf("[%s]", id)
	}
	return fmt.Sprintf("%s [%s]", detail, id)
}

// wrapWarning splits a message into warnings of at most MaxWarningLength characters, breaking between words, each
// starting with the rule ID so that the lines of one message stay together in `oc apply` output.
func wrapWarning(id RuleID, msg string) []string {
	prefix := fmt.Sprintf("[%s] ", id)
	limit := MaxWarningLength - len([]rune(prefix))
	var out []string
	line := ""
	for _, word := range strings.Fields(msg) {
		for len([]rune(word)) > limit { // a single over-long word, e.g. a long image reference
			if line != "" {
				out, line = append(out, prefix+line), ""
			}
			r := []rune(word)
			out, word = append(out, prefix+string(r[:limit])), string(r[limit:])
		}
		switch {
		case line == "":
			line = word
		case len([]rune(line))+1+len([]rune(word)) <= limit:
			line += " " + word
		default:
			out, line = append(out, prefix+line), word
		}
	}
	if line != "" {
		out = append(out, prefix+line)
	}
	return out
}

// memoLookups remembers each answer for the length of one evaluation.
type memoLookups struct {
	inner   Lookups
	mu      sync.Mutex
	secrets map[string]lookupResult[*corev1.Secret]
	pools   map[string]lookupResult[*mcfgv1.MachineConfigPool]
	probes  map[string]registry.Result
	cluster *lookupResult[*corev1.Secret]
	pre     preflightMemo
}

type lookupResult[T any] struct {
	obj T
	err error
}

func newMemoLookups(inner Lookups) *memoLookups {
	return &memoLookups{
		inner:   inner,
		secrets: map[string]lookupResult[*corev1.Secret]{},
		pools:   map[string]lookupResult[*mcfgv1.MachineConfigPool]{},
		probes:  map[string]registry.Result{},
		pre:     newPreflightMemo(),
	}
}

func (m *memoLookups) MCOSecret(ctx context.Context, name string) (*corev1.Secret, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.secrets[name]; ok {
		return r.obj, r.err
	}
	obj, err := m.inner.MCOSecret(ctx, name)
	m.secrets[name] = lookupResult[*corev1.Secret]{obj, err}
	return obj, err
}

func (m *memoLookups) ClusterPullSecret(ctx context.Context) (*corev1.Secret, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cluster == nil {
		obj, err := m.inner.ClusterPullSecret(ctx)
		m.cluster = &lookupResult[*corev1.Secret]{obj, err}
	}
	return m.cluster.obj, m.cluster.err
}

// ProbeRegistry is remembered too: the prober's cache does not keep a probe that ran out of budget, and two rules
// each waiting the whole budget would double the admission's worst case.
func (m *memoLookups) ProbeRegistry(ctx context.Context, repository string, pushSecret *corev1.Secret) registry.Result {
	key := repository
	if pushSecret != nil {
		key += "|" + pushSecret.Namespace + "/" + pushSecret.Name + "@" + pushSecret.ResourceVersion
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.probes[key]; ok {
		return r
	}
	r := m.inner.ProbeRegistry(ctx, repository, pushSecret)
	m.probes[key] = r
	return r
}

func (m *memoLookups) MachineConfigPool(ctx context.Context, name string) (*mcfgv1.MachineConfigPool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.pools[name]; ok {
		return r.obj, r.err
	}
	obj, err := m.inner.MachineConfigPool(ctx, name)
	m.pools[name] = lookupResult[*mcfgv1.MachineConfigPool]{obj, err}
	return obj, err
}
