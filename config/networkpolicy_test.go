package config

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

func readManifest(t *testing.T, path string, into any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("manager", path))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(data, into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// Anyone who reaches the webhook's port can post AdmissionReviews and learn which Secrets exist and which
// registries they hold credentials for; only the API server may, and only monitoring may scrape metrics.
func TestNetworkPolicyAdmitsOnlyTheAPIServerAndMonitoring(t *testing.T) {
	var deploy appsv1.Deployment
	var policy networkingv1.NetworkPolicy
	readManifest(t, "deployment.yaml", &deploy)
	readManifest(t, "networkpolicy.yaml", &policy)

	selector, err := metav1.LabelSelectorAsSelector(&policy.Spec.PodSelector)
	if err != nil {
		t.Fatal(err)
	}
	if selector.Empty() || !selector.Matches(labels.Set(deploy.Spec.Template.Labels)) {
		t.Fatalf("the policy's podSelector %v does not select ocl-guard's pods %v", selector, deploy.Spec.Template.Labels)
	}
	if !slices.Contains(policy.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) {
		t.Fatal("the policy does not restrict ingress")
	}

	allowedFrom := map[int32][]map[string]string{} // port -> namespace label sets allowed to reach it
	for _, rule := range policy.Spec.Ingress {
		if len(rule.From) == 0 || len(rule.Ports) == 0 {
			t.Fatalf("an ingress rule without peers or ports admits everyone: %+v", rule)
		}
		for _, port := range rule.Ports {
			for _, peer := range rule.From {
				if peer.IPBlock != nil || peer.NamespaceSelector == nil || peer.PodSelector == nil {
					t.Errorf("peer %+v: want a namespaceSelector with podSelector {} (host-network pods match only so)", peer)
					continue
				}
				allowedFrom[port.Port.IntVal] = append(allowedFrom[port.Port.IntVal], peer.NamespaceSelector.MatchLabels)
			}
		}
	}
	hostNetwork := map[string]string{"policy-group.network.openshift.io/host-network": ""}
	monitoring := map[string]string{"network.openshift.io/policy-group": "monitoring"}
	for _, c := range deploy.Spec.Template.Spec.Containers {
		for _, p := range c.Ports {
			peers, ok := allowedFrom[p.ContainerPort]
			if !ok {
				t.Errorf("container port %s/%d is not covered by the policy", p.Name, p.ContainerPort)
				continue
			}
			want := monitoring
			if p.ContainerPort == 9443 {
				want = hostNetwork
			}
			if !slices.ContainsFunc(peers, func(m map[string]string) bool { return labels.Equals(m, want) }) {
				t.Errorf("port %d: peers %v, want %v among them", p.ContainerPort, peers, want)
			}
			for _, m := range peers {
				if p.ContainerPort != 9443 && !labels.Equals(m, monitoring) {
					t.Errorf("metrics port %d is open to %v", p.ContainerPort, m)
				}
			}
		}
	}
}
