package e2e

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/ocl-guard/ocl-guard/test/testbed"
)

// config/prometheus goes through the real prometheus-operator CRDs (vendored in testdata/prometheus-operator): a
// misspelt or misplaced field is refused (strict field validation, as oc apply does) or would be pruned, and fails.
var _ = Describe("Monitoring manifests", func() {
	It("are accepted unchanged by the ServiceMonitor and PrometheusRule schemas", func() {
		_, err := envtest.InstallCRDs(bed.Config, envtest.CRDInstallOptions{
			Paths: []string{filepath.Join("testdata", "prometheus-operator")}, ErrorIfPathMissing: true,
		})
		Expect(err).NotTo(HaveOccurred())
		ensureNamespace(checkerNamespace)
		ensureNamespace("openshift-monitoring")

		for _, file := range []string{"servicemonitor.yaml", "prometheusrule.yaml", "rbac.yaml"} {
			for _, obj := range readObjects(filepath.Join(testbed.RepoRoot(), "config", "prometheus", file)) {
				sent := obj.DeepCopy()
				deleteQuietly(obj.DeepCopy()) // another spec may have applied the binding already
				Expect(kube.Create(ctx, obj, client.FieldValidation("Strict"))).To(Succeed(), "%s %s", obj.GetKind(), obj.GetName())
				DeferCleanup(deleteQuietly, obj.DeepCopy())
				served := &unstructured.Unstructured{}
				served.SetGroupVersionKind(obj.GroupVersionKind())
				Expect(kube.Get(ctx, client.ObjectKeyFromObject(obj), served)).To(Succeed())
				for _, field := range []string{"spec", "roleRef", "subjects"} {
					Expect(cmp.Diff(asJSON(sent.Object)[field], asJSON(served.Object)[field])).To(BeEmpty(),
						"the API server changed %s of %s %s (-sent +served)", field, obj.GetKind(), obj.GetName())
				}
			}
		}
	})
})

// readObjects decodes every object of a multi-document YAML file.
func readObjects(path string) []*unstructured.Unstructured {
	GinkgoHelper()
	data, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	decoder := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var objs []*unstructured.Unstructured
	for {
		obj := &unstructured.Unstructured{}
		if err := decoder.Decode(&obj.Object); errors.Is(err, io.EOF) {
			return objs
		} else {
			Expect(err).NotTo(HaveOccurred())
		}
		if len(obj.Object) != 0 {
			objs = append(objs, obj)
		}
	}
}
