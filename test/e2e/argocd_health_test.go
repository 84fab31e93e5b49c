package e2e

import (
	"encoding/json"
	"path"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ocl-guard/ocl-guard/config/argocd"
	"github.com/ocl-guard/ocl-guard/validators"
)

// The Argo CD health checks judge objects as Argo CD sees them: as the API server returns them. Every testdata
// object goes through the real CRDs (spec on create, status through the status subresource); one that the schema
// refuses, prunes or defaults fails here, and the scripts then run on what the server returned.
var _ = Describe("Argo CD health checks", func() {
	BeforeEach(func() {
		// The testdata names Secrets and pools that do not exist here; the webhook's verdict is not under test.
		for _, id := range validators.RuleIDs() {
			DeferCleanup(actions.set(id, validators.ActionOff))
		}
	})

	checks, err := argocd.Checks()
	if err != nil {
		Fail(err.Error())
	}
	for _, check := range checks {
		cases, err := check.Cases()
		if err != nil {
			Fail(err.Error())
		}
		for _, tc := range cases {
			It("judges "+path.Join(check.Kind, tc.InputPath)+" as the API server returns it", func() {
				served := roundTrip(tc.Object)
				for _, field := range [][]string{{"spec"}, {"status"}, {"metadata", "labels"}, {"metadata", "annotations"}} {
					want, _, _ := unstructured.NestedFieldNoCopy(asJSON(tc.Object), field...)
					got, _, _ := unstructured.NestedFieldNoCopy(asJSON(served), field...)
					Expect(cmp.Diff(want, got)).To(BeEmpty(), "the API server changed %v of %s (-testdata +served)", field, tc.InputPath)
				}
				Expect(argocd.Evaluate(check.Script, served)).To(Equal(tc.Want))
			})
		}
	}
})

// roundTrip creates obj (and its status, through the status subresource), reads it back and deletes it.
func roundTrip(obj map[string]any) map[string]any {
	u := &unstructured.Unstructured{Object: runtime.DeepCopyJSON(obj)}
	status, hasStatus := u.Object["status"]
	delete(u.Object, "status")
	Expect(kube.Create(ctx, u)).To(Succeed())
	DeferCleanup(deleteQuietly, u.DeepCopy())
	if hasStatus {
		u.Object["status"] = status
		Expect(kube.Status().Update(ctx, u)).To(Succeed())
	}
	served := &unstructured.Unstructured{}
	served.SetGroupVersionKind(u.GroupVersionKind())
	Expect(kube.Get(ctx, client.ObjectKeyFromObject(u), served)).To(Succeed())
	return served.Object
}

// asJSON normalises numbers (YAML gives float64, the API server int64) by a JSON round trip.
func asJSON(obj map[string]any) map[string]any {
	raw, err := json.Marshal(obj)
	Expect(err).NotTo(HaveOccurred())
	var out map[string]any
	Expect(json.Unmarshal(raw, &out)).To(Succeed())
	return out
}
