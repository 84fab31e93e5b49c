package mustgather

import (
	configv1 "github.com/openshift/api/config/v1"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/ocl-guard/ocl-guard/lookups"
	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/validators"
)

// NotJudged begins the message of every rule a must-gather cannot judge.
const NotJudged = "not judged from a must-gather"

// RuleSource answers the admission rules from the dump: the live lookups (lookups.Cluster) over the dump's reader,
// and, as a validators.PartialSource, the rules the dump cannot judge.
type RuleSource struct {
	*lookups.Cluster
	Dump *Dump
}

var _ validators.PartialSource = RuleSource{}

// gathered says where the dump keeps each fact the rules read (validators.Reads): without those objects in it, a
// missing one would read as absent, and the rule would fail or pass on what was merely not gathered.
var gathered = map[validators.Reads][]gatheredKey{
	validators.ReadsPool:           {{gk: mcfgv1.GroupVersion.WithKind("MachineConfigPool").GroupKind()}},
	validators.ReadsRenderedConfig: {{gk: mcfgv1.GroupVersion.WithKind("MachineConfig").GroupKind()}},
	validators.ReadsSecrets:        {{gk: secretGK, namespace: mco.Namespace}},
	validators.ReadsEntitlement: {{gk: secretGK, namespace: mco.EntitlementSecretNamespace},
		{gk: secretGK, namespace: mco.Namespace}, {gk: corev1.SchemeGroupVersion.WithKind("ConfigMap").GroupKind(), namespace: mco.Namespace}},
	validators.ReadsImagePolicy: {{gk: configv1.GroupVersion.WithKind("Image").GroupKind()},
		{gk: configv1.GroupVersion.WithKind("ClusterImagePolicy").GroupKind()}},
}

var secretGK = schema.GroupKind{Kind: "Secret"}

// NotJudged says why a rule is not judged from the dump: it reads a Secret's data, which a must-gather does not
// keep, or objects the dump does not hold.
func (s RuleSource) NotJudged(rule validators.RuleID) string {
	if validators.ReadsSecretContent(rule) {
		return NotJudged + ": it keeps Secrets without their data"
	}
	reads := validators.ReadsOf(rule)
	for read := validators.Reads(1); read != 0; read <<= 1 {
		if reads&read == 0 {
			continue
		}
		for _, need := range gathered[read] {
			if !s.Dump.Holds(need.gk, need.namespace) {
				k, _ := kindOf(need.gk)
				if need.namespace != "" {
					return NotJudged + ": it holds no " + k.String() + " of namespace " + need.namespace
				}
				return NotJudged + ": it holds no " + k.String()
			}
		}
	}
	return ""
}

// StatusNamespaces are the namespaces whose objects `ocl-guard status` reads: the MCO's (builds, pods, the
// builder, Secrets), the one of Events about cluster-scoped objects, those of the cluster pull secret and the
// entitlement, and ocl-guard's install namespace (its settings).
func StatusNamespaces(install string) []string {
	return []string{mco.Namespace, mco.EventNamespace, mco.ClusterPullSecretNamespace, mco.EntitlementSecretNamespace, install}
}
