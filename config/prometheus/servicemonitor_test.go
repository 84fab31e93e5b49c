package prometheus_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

// serviceMonitor is the part of monitoring.coreos.com/v1 ServiceMonitor that this test reads.
type serviceMonitor struct {
	Metadata struct{ Namespace string }
	Spec     struct {
		Selector struct {
			MatchLabels map[string]string `json:"matchLabels"`
		}
		NamespaceSelector struct {
			MatchNames []string `json:"matchNames"`
		} `json:"namespaceSelector"`
		Endpoints []struct {
			Port, Scheme string
			TLSConfig    struct {
				ServerName string `json:"serverName"`
			} `json:"tlsConfig"`
		}
	}
}

func readManifests(t *testing.T, path string) [][]byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var docs [][]byte
	for _, doc := range strings.Split(string(raw), "\n---\n") {
		docs = append(docs, []byte(doc))
	}
	return docs
}

func decode(t *testing.T, doc []byte, into any) {
	t.Helper()
	if err := yaml.Unmarshal(doc, into); err != nil {
		t.Fatal(err)
	}
}

// TestServiceMonitorScrapesTheMetricsService ties config/prometheus to the manifests it depends on: the
// ServiceMonitor selects the metrics Service (and no other), names its ports, verifies its service-CA certificate by
// its DNS name; the rules' job label is that Service's name (prometheus-operator's default job label); the
// ClusterRoleBinding's role exists.
func TestServiceMonitorScrapesTheMetricsService(t *testing.T) {
	var sm serviceMonitor
	decode(t, readManifests(t, "servicemonitor.yaml")[0], &sm)
	selector := labels.SelectorFromSet(sm.Spec.Selector.MatchLabels)

	var metricsSvc *corev1.Service
	for _, path := range []string{"../manager/metrics_service.yaml", "../webhook/service.yaml"} {
		var svc corev1.Service
		decode(t, readManifests(t, path)[0], &svc)
		matches := selector.Matches(labels.Set(svc.Labels)) && strings.Contains(strings.Join(sm.Spec.NamespaceSelector.MatchNames, ","), svc.Namespace)
		if svc.Name == "ocl-guard-metrics" {
			metricsSvc = &svc
			if !matches {
				t.Errorf("the ServiceMonitor's selector %v does not select Service %s/%s (labels %v)", sm.Spec.Selector.MatchLabels, svc.Namespace, svc.Name, svc.Labels)
			}
		} else if matches {
			t.Errorf("the ServiceMonitor also selects Service %s", svc.Name)
		}
	}
	if metricsSvc == nil {
		t.Fatal("no Service ocl-guard-metrics in config/manager/metrics_service.yaml")
	}
	ports := map[string]bool{}
	for _, p := range metricsSvc.Spec.Ports {
		ports[p.Name] = true
	}
	if len(sm.Spec.Endpoints) != len(ports) {
		t.Errorf("%d endpoints for the Service's %d ports", len(sm.Spec.Endpoints), len(ports))
	}
	for _, e := range sm.Spec.Endpoints {
		if !ports[e.Port] {
			t.Errorf("endpoint port %q is not a port of Service %s", e.Port, metricsSvc.Name)
		}
		if want := metricsSvc.Name + "." + metricsSvc.Namespace + ".svc"; e.Scheme != "https" || e.TLSConfig.ServerName != want {
			t.Errorf("endpoint %s: scheme %q serverName %q, want https and %s", e.Port, e.Scheme, e.TLSConfig.ServerName, want)
		}
	}

	jobLabel := regexp.MustCompile(`job="([^"]*)"`)
	endpointLabel := regexp.MustCompile(`endpoint="([^"]*)"`)
	for _, g := range ruleGroups(t) {
		for _, r := range g.Rules {
			for _, m := range jobLabel.FindAllStringSubmatch(r.Expr, -1) {
				if m[1] != metricsSvc.Name {
					t.Errorf("%s selects job %q; the ServiceMonitor's targets have job %q", r.Alert, m[1], metricsSvc.Name)
				}
			}
			for _, m := range endpointLabel.FindAllStringSubmatch(r.Expr, -1) {
				if !ports[m[1]] {
					t.Errorf("%s selects endpoint %q, not a port of Service %s", r.Alert, m[1], metricsSvc.Name)
				}
			}
		}
	}

	var binding rbacv1.ClusterRoleBinding
	decode(t, readManifests(t, "rbac.yaml")[0], &binding)
	found := false
	for _, doc := range readManifests(t, filepath.Join("..", "rbac", "role.yaml")) {
		var role rbacv1.ClusterRole
		decode(t, doc, &role)
		if role.Kind == "ClusterRole" && role.Name == binding.RoleRef.Name {
			found = true
		}
	}
	if !found {
		t.Errorf("rbac.yaml binds ClusterRole %s, which config/rbac does not define", binding.RoleRef.Name)
	}
}
