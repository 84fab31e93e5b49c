package validators

import (
	"context"
	"strings"
	"testing"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
)

func TestValidatePushSpecSyntax(t *testing.T) {
	const field = "spec.renderedImagePushSpec|"
	longTag := strings.Repeat("t", 129)
	longName := "quay.io/" + strings.Repeat("a", 257) + "/os"
	for _, tc := range []struct {
		name     string
		pushSpec string
		want     want
	}{
		{"plain", "quay.io/acme/os:latest", want{warnings: []string{`tag "latest" is not used: each build pushes quay.io/acme/os:<MachineOSBuild name>`}}},
		{"host with port", "registry.example.com:5000/os:v1", want{warnings: []string{"registry.example.com:5000/os:<MachineOSBuild name>"}}},
		{"port out of range", "registry.example.com:99999/os:v1",
			want{errs: []string{"spec.renderedImagePushSpec|" + invalid + "|registry port 99999 is out of range: use a port from 1 to 65535"}}},
		{"port zero", "registry.example.com:0/os:v1", want{errs: []string{"spec.renderedImagePushSpec|" + invalid + "|registry port 0 is out of range"}}},
		{"highest port", "registry.example.com:65535/os:v1", want{warnings: []string{"each build pushes"}}},
		{"internal registry", "image-registry.openshift-image-registry.svc:5000/openshift-machine-config-operator/os-image:latest",
			want{warnings: []string{"each build pushes"}}},
		// The rest pass the CRD's CEL pattern but not the MCO's reference parser.
		{"uppercase path", "quay.io/mco/renderedImg:latest",
			want{errs: []string{field + invalid + `|repository path "mco/renderedImg" must be lowercase, or the MCO's reference parser refuses it; use quay.io/mco/renderedimg:latest`}}},
		{"uppercase org", "quay.io/ACME/os:latest", want{errs: []string{field + invalid + "|use quay.io/acme/os:latest"}}},
		{"tag over 128 characters", "quay.io/acme/os:" + longTag, want{errs: []string{field + invalid + "|is invalid: use at most 128 letters"}}},
		{"tag starting with a dot", "quay.io/acme/os:.v1", want{errs: []string{field + invalid + `|tag ".v1" is invalid`}}},
		{"tag starting with a dash", "quay.io/acme/os:-v1", want{errs: []string{field + invalid + `|tag "-v1" is invalid`}}},
		{"repository name over 255 characters", longName + ":latest", want{errs: []string{field + invalid + "|repository path is 260 characters; at most 255"}}},
		{"path component starting with a dash", "quay.io/-acme/os:latest", want{errs: []string{field + invalid + `|path component "-acme" is invalid`}}},
		{"path component with a double dot", "quay.io/acme/os..x:latest", want{errs: []string{field + invalid + `|path component "os..x" is invalid`}}},
		{"triple underscore", "quay.io/acme/os___x:latest", want{errs: []string{field + invalid + `|path component "os___x" is invalid`}}},
		{"host label starting with a dash", "-quay.io/acme/os:latest", want{errs: []string{field + invalid + `|registry host "-quay.io" is invalid`}}},
		{"svc form with a space", "image-registry.openshift-image-registry.svc:5000/my project/os:latest",
			want{errs: []string{field + invalid + `|path component "my project" is invalid`}}},
		{"digest instead of tag", "quay.io/acme/os@sha256:" + strings.Repeat("a", 64), want{errs: []string{field + invalid + "|must end in a tag, not a digest"}}},
		{"no tag", "quay.io/acme/os", want{errs: []string{field + invalid + "|needs a tag: use quay.io/acme/os:latest"}}},
		{"empty is the CRD's to refuse", "", want{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mosc := goodConfig()
			mosc.Spec.RenderedImagePushSpec = mcfgv1.ImageTagFormat(tc.pushSpec)
			checkFindings(t, validate(context.Background(), ValidatePushSpecSyntax, mosc, nil), tc.want)
		})
	}
}
