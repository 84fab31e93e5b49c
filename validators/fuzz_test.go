package validators

import (
	"context"
	"strings"
	"testing"

	configv1 "github.com/openshift/api/config/v1"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"

	"github.com/ocl-guard/ocl-guard/findings"
	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/registry"
)

// FuzzEvaluate feeds every rule arbitrary push specs, Containerfiles and secret contents: none may panic, and
// every error must name a field.
func FuzzEvaluate(f *testing.F) {
	f.Add("quay.io/acme/os:latest", "FROM configs AS final\nRUN true\n", `{"auths":{"quay.io":{"auth":"dTpw"}}}`)
	f.Add("quay.io/mco/renderedImg:latest", "RUNN x", `{"quay.io":{"auth":"dTpw"}}`)
	f.Add("image-registry.openshift-image-registry.svc:5000/a b/c:d", "RUN <<EOF\nx\nEOF\n", `{"auths":{}}`)
	f.Add("-x.io/a:.b", "FROM\nENV\nARG\n", `{"auths":{"x":"y"}}`)
	f.Add("a.b/c@sha256:0", "\\\n", `[1,2]`)
	f.Add("quay.io/a/b@sha256:"+strings.Repeat("0", 64), "FROM x AS y\nCOPY --from=y / /\nCOPY --from=quay.io/a:1 / /\nRUN --mount=from=ubi9,target=/x dnf install z\n", `{"auths":{"quay.io":{"auth":"dTpleUouZXlKbGVIQWlPakY5Lng="}}}`)
	f.Add("*.io/a:b", "# escape=`\nFROM configs\nLABEL a\nHEALTHCHECK NONE\n", `{"quay.io":{"password":"a.b.c"}}`)
	f.Fuzz(func(t *testing.T, pushSpec, containerfile, dockerConfig string) {
		mosc := goodConfig()
		mosc.Spec.RenderedImagePushSpec = mcfgv1.ImageTagFormat(pushSpec)
		mosc.Spec.Containerfile[0].Content = containerfile
		// The preflight rules see the same text as an annotation, a base image, and image policy scopes.
		mosc.Annotations = map[string]string{mco.AnnotationPreBuiltImage: pushSpec}
		cluster := renderedPool(newClusterFixture().withSecret(dockerConfigJSON("push", dockerConfig)), OSImages{OSImageURL: pushSpec})
		cluster.noEntitlement = true
		cluster.imageConfig = &configv1.Image{Spec: configv1.ImageSpec{RegistrySources: configv1.RegistrySources{AllowedRegistries: []string{pushSpec}}}}
		cluster.policies = []configv1.ClusterImagePolicy{{Spec: configv1.ClusterImagePolicySpec{Scopes: []configv1.ImageScope{configv1.ImageScope(pushSpec)}}}}
		failed := registry.Result{Reachable: registry.StatusOK, Pull: registry.StatusFailed, NotFound: true, PullDetail: "gone", Delete: registry.StatusFailed, DeleteDetail: "no"}
		cluster.pulls = map[string]registry.Result{pushSpec: failed}
		cluster.deleteResult = failed
		v := evaluate(context.Background(), mosc, cluster, func(RuleID) Action { return ActionDeny })
		for _, err := range v.Findings.Denials() {
			if err.Field == "" || err.Detail == "" {
				t.Errorf("finding without a field or detail: %#v", err)
			}
		}
		for _, w := range findings.AdmissionWarnings(v.Findings.With(findings.Warn)) {
			if len([]rune(w)) > findings.MaxWarningLength {
				t.Errorf("warning over %d characters: %q", findings.MaxWarningLength, w)
			}
		}
	})
}
