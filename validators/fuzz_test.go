package validators

import (
	"context"
	"testing"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
)

// FuzzEvaluate feeds every rule arbitrary push specs, Containerfiles and secret contents: none may panic, and
// every error must name a field.
func FuzzEvaluate(f *testing.F) {
	f.Add("quay.io/acme/os:latest", "FROM configs AS final\nRUN true\n", `{"auths":{"quay.io":{"auth":"dTpw"}}}`)
	f.Add("quay.io/mco/renderedImg:latest", "RUNN x", `{"quay.io":{"auth":"dTpw"}}`)
	f.Add("image-registry.openshift-image-registry.svc:5000/a b/c:d", "RUN <<EOF\nx\nEOF\n", `{"auths":{}}`)
	f.Add("-x.io/a:.b", "FROM\nENV\nARG\n", `{"auths":{"x":"y"}}`)
	f.Add("a.b/c@sha256:0", "\\\n", `[1,2]`)
	f.Fuzz(func(t *testing.T, pushSpec, containerfile, dockerConfig string) {
		mosc := goodConfig()
		mosc.Spec.RenderedImagePushSpec = mcfgv1.ImageTagFormat(pushSpec)
		mosc.Spec.Containerfile[0].Content = containerfile
		cluster := newClusterFixture().withSecret(dockerConfigJSON("push", dockerConfig))
		v := Evaluate(context.Background(), mosc, cluster, func(RuleID) Action { return ActionDeny })
		for _, err := range v.Denials() {
			if err.Field == "" || err.Detail == "" {
				t.Errorf("finding without a field or detail: %#v", err)
			}
		}
		for _, w := range v.Warnings() {
			if len([]rune(w)) > MaxWarningLength {
				t.Errorf("warning over %d characters: %q", MaxWarningLength, w)
			}
		}
	})
}
