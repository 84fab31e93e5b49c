package validators

import (
	"context"
	"strings"
	"testing"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestValidatePreBuiltImage(t *testing.T) {
	const field = "metadata.annotations[machineconfiguration.openshift.io/pre-built-image]|"
	sha256 := strings.Repeat("a", 64)
	for _, tc := range []struct {
		name        string
		annotations map[string]string
		want        want
	}{
		{"no annotation", nil, want{}},
		{"digested", map[string]string{PreBuiltImageAnnotation: "quay.io/acme/os@sha256:" + sha256}, want{}},
		{"tag and digest", map[string]string{PreBuiltImageAnnotation: "quay.io/acme/os:v1@sha256:" + sha256}, want{}},
		{"empty", map[string]string{PreBuiltImageAnnotation: ""}, want{errs: []string{field + invalid + "|is empty"}}},
		{"by tag", map[string]string{PreBuiltImageAnnotation: "quay.io/acme/os:v1"},
			want{errs: []string{field + invalid + "|must name the image by digest, as host/path@sha256:<64 hex digits>"}}},
		{"short digest", map[string]string{PreBuiltImageAnnotation: "quay.io/acme/os@sha256:00"},
			want{errs: []string{field + invalid + "|is not an image reference the MCO can parse"}}},
		{"sha512", map[string]string{PreBuiltImageAnnotation: "quay.io/acme/os@sha512:" + strings.Repeat("a", 128)},
			want{errs: []string{field + invalid + "|must use a sha256 digest, not sha512"}}},
		{"uppercase path", map[string]string{PreBuiltImageAnnotation: "quay.io/ACME/os@sha256:" + sha256},
			want{errs: []string{field + invalid + "|is not an image reference the MCO can parse"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mosc := &mcfgv1.MachineOSConfig{ObjectMeta: metav1.ObjectMeta{Name: "worker", Annotations: tc.annotations}}
			checkFindings(t, ValidatePreBuiltImage(context.Background(), mosc, nil), tc.want)
		})
	}
}
