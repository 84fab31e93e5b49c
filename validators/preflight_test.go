package validators

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	configv1 "github.com/openshift/api/config/v1"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ocl-guard/ocl-guard/findings"
	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/registry"
)

func withContent(content string) *mcfgv1.MachineOSConfig {
	mosc := goodConfig()
	mosc.Spec.Containerfile[0].Content = content
	return mosc
}

const contentPath = "spec.containerFile[0].content"

func TestContainerfileImages(t *testing.T) {
	const content = "FROM quay.io/acme/tools:1 AS tools\nFROM configs AS final\nCOPY --from=tools /a /a\n" +
		"COPY --from=registry.example.com/private/bits:2 /b /b\nRUN --mount=type=bind,from=ubi9/ubi,target=/x true\n" +
		"COPY --from=0 /c /c\nFROM $BASE AS other\n"
	missing := registry.Result{Reachable: registry.StatusOK, Pull: registry.StatusFailed, NotFound: true, PullDetail: "registry.example.com/private/bits:2 does not exist"}
	refused := registry.Result{Reachable: registry.StatusOK, Pull: registry.StatusFailed, CredentialsRefused: true, PullDetail: "quay.io refused"}
	cluster := newClusterFixture().withSecret(pushSecretFor("quay.io")).withSecret(pushSecretFor("quay.io"))
	cluster.secrets["pull"] = dockerConfigJSON("pull", `{"auths":{"quay.io":{"auth":"`+basicAuth()+`"}}}`)
	cluster.pulls = map[string]registry.Result{"quay.io/acme/tools:1": refused, "registry.example.com/private/bits:2": missing}
	mosc := withContent(content)
	mosc.Spec.BaseImagePullSecret = &mcfgv1.ImageSecretObjectReference{Name: "pull"}

	f := validate(context.Background(), ValidateContainerfileImages, mosc, cluster)
	checkFindings(t, f, want{
		errs: []string{
			contentPath + "|" + invalid + `|line 5: RUN --mount from "ubi9/ubi" is a short name, which the build pod cannot resolve; name the registry, e.g. docker.io/ubi9/ubi`,
			contentPath + "|" + invalid + "|line 1: FROM quay.io/acme/tools:1: quay.io refused; add credentials that may pull it to the base image pull secret pull",
			contentPath + "|" + invalid + "|line 4: COPY --from registry.example.com/private/bits:2: registry.example.com/private/bits:2 does not exist; push it or correct the reference",
		},
		warnings: []string{"line 7: FROM $BASE uses a build argument"},
	})
	if strings.Join(cluster.pulled, " ") != "quay.io/acme/tools:1 registry.example.com/private/bits:2" {
		t.Errorf("probed %v", cluster.pulled)
	}
	if cluster.pulledWith[0] == nil || cluster.pulledWith[0].Name != "pull" {
		t.Errorf("probed with %v, want the base image pull secret", cluster.pulledWith[0])
	}
	checkFindings(t, validate(context.Background(), ValidateContainerfileImages, goodConfig(), cluster), want{})
}

func renderedPool(cluster *clusterFixture, images OSImages) *clusterFixture {
	cluster.poolConfig = "rendered-worker-1"
	cluster.rendered = map[string]OSImages{"rendered-worker-1": images}
	return cluster
}

func TestBaseImagePull(t *testing.T) {
	base := "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:" + strings.Repeat("a", 64)
	ext := "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:" + strings.Repeat("b", 64)
	ok := registry.Result{Reachable: registry.StatusOK, Pull: registry.StatusOK}
	for name, tc := range map[string]struct {
		base, ext registry.Result
		want      want
	}{
		"both pull": {ok, ok, want{warnings: []string{}}},
		"base refused": {registry.Result{Reachable: registry.StatusOK, Pull: registry.StatusFailed, CredentialsRefused: true, PullDetail: "quay.io refused"}, ok,
			want{errs: []string{"spec.baseImagePullSecret.name|" + invalid + "|the base OS image " + base + " of pool worker (rendered config rendered-worker-1): quay.io refused; add credentials that may pull it to the base image pull secret openshift-config/pull-secret"}}},
		"extensions missing": {ok, registry.Result{Reachable: registry.StatusOK, Pull: registry.StatusFailed, NotFound: true, PullDetail: "gone"},
			want{errs: []string{"spec.baseImagePullSecret.name|" + invalid + "|the extensions image " + ext}}},
		"unreachable": {registry.Result{Reachable: registry.StatusUnknown, ReachableDetail: "could not reach quay.io within 3s"}, ok,
			// The extensions image is on the same silent host: not probed again in this evaluation.
			want{warnings: []string{"not checked: could not reach quay.io within 3s", "not checked: quay.io did not answer an earlier probe"}}},
	} {
		t.Run(name, func(t *testing.T) {
			cluster := renderedPool(newClusterFixture().withSecret(pushSecretFor("quay.io")), OSImages{OSImageURL: base, ExtensionsImage: ext})
			cluster.pulls = map[string]registry.Result{base: tc.base, ext: tc.ext}
			f := validate(context.Background(), ValidateBaseImagePull, goodConfig(), cluster)
			if tc.want.warnings == nil {
				tc.want.warnings = []string{}
			}
			checkFindings(t, f, tc.want)
			if len(cluster.pulledWith) == 0 || cluster.pulledWith[0] == nil || cluster.pulledWith[0].Name != "pull-secret" {
				t.Errorf("without global-pull-secret-copy the cluster pull secret it copies is used; got %v", cluster.pulledWith)
			}
		})
	}
	cluster := newClusterFixture()
	cluster.poolConfig = "rendered-worker-2"
	checkFindings(t, validate(context.Background(), ValidateBaseImagePull, goodConfig(), cluster),
		want{warnings: []string{"names rendered MachineConfig rendered-worker-2, which does not exist"}})
}

func TestEntitlement(t *testing.T) {
	missing := newClusterFixture()
	missing.noEntitlement = true
	checkFindings(t, validate(context.Background(), ValidateEntitlement, goodConfig(), missing), want{errs: []string{
		contentPath + "|" + invalid + "|line 2 installs packages, but there is no Secret openshift-config-managed/etc-pki-entitlement"}})
	checkFindings(t, validate(context.Background(), ValidateEntitlement, goodConfig(), newClusterFixture()), want{})
	ownRepo := withContent("FROM configs AS final\nCOPY my.repo /etc/yum.repos.d/\nRUN dnf install -y tree\n")
	checkFindings(t, validate(context.Background(), ValidateEntitlement, ownRepo, missing), want{})
	noInstall := withContent("FROM configs AS final\nRUN echo rpm-ostree is here\n")
	checkFindings(t, validate(context.Background(), ValidateEntitlement, noInstall, missing), want{})
}

func jwtWithExp(exp time.Time) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256"}`)) + "." + enc([]byte(fmt.Sprintf(`{"exp":%d}`, exp.Unix()))) + ".c2ln"
}

func TestPushSecretLifetime(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	tokenSecret := func(exp time.Time) *corev1.Secret {
		auth := base64.StdEncoding.EncodeToString([]byte("robot:" + jwtWithExp(exp)))
		return dockerConfigJSON("push", `{"auths":{"quay.io":{"auth":"`+auth+`"}}}`)
	}
	saSecret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "push", Namespace: mco.Namespace, Annotations: map[string]string{corev1.ServiceAccountNameKey: "builder"}},
		Type:       corev1.SecretTypeDockercfg,
		Data:       map[string][]byte{corev1.DockerConfigKey: []byte(`{"quay.io":{"auth":"` + basicAuth() + `"}}`)},
	}
	for name, tc := range map[string]struct {
		secret *corev1.Secret
		want   want
	}{
		"service account dockercfg": {saSecret, want{errs: []string{"spec.renderedImagePushSecret.name|" + invalid + "|dockercfg token secret of ServiceAccount builder, which OpenShift rotates"}}},
		"expires in 3 days":         {tokenSecret(now.Add(72 * time.Hour)), want{errs: []string{"spec.renderedImagePushSecret.name|" + invalid + "|the credential for quay.io is a token that expires at 2026-12-04T00:00:00Z, and builds"}, evidence: "quay.io: in 3 days"}},
		"expired":                   {tokenSecret(now.Add(-time.Hour)), want{errs: []string{"spec.renderedImagePushSecret.name|" + invalid + "|expired at 2026-11-30T23:00:00Z"}}},
		"expires in 30 days":        {tokenSecret(now.Add(30 * 24 * time.Hour)), want{}},
		"password":                  {pushSecretFor("quay.io"), want{}},
	} {
		t.Run(name, func(t *testing.T) {
			cluster := newClusterFixture().withSecret(tc.secret)
			cluster.now = now
			checkFindings(t, validate(context.Background(), ValidatePushSecretLifetime, goodConfig(), cluster), tc.want)
		})
	}
}

func TestImagePolicy(t *testing.T) {
	imageCfg := func(s configv1.RegistrySources) *configv1.Image {
		return &configv1.Image{Spec: configv1.ImageSpec{RegistrySources: s}}
	}
	policy := func(scopes ...configv1.ImageScope) []configv1.ClusterImagePolicy {
		return []configv1.ClusterImagePolicy{{ObjectMeta: metav1.ObjectMeta{Name: "signed"}, Spec: configv1.ClusterImagePolicySpec{Scopes: scopes}}}
	}
	const path = "spec.renderedImagePushSpec|"
	for name, tc := range map[string]struct {
		cfg      *configv1.Image
		policies []configv1.ClusterImagePolicy
		want     want
	}{
		"blocked host":       {imageCfg(configv1.RegistrySources{BlockedRegistries: []string{"quay.io"}}), nil, want{errs: []string{path + invalid + `|blockedRegistries lists "quay.io"`}}},
		"blocked namespace":  {imageCfg(configv1.RegistrySources{BlockedRegistries: []string{"quay.io/acme"}}), nil, want{errs: []string{path + invalid + `|blockedRegistries lists "quay.io/acme"`}}},
		"blocked other":      {imageCfg(configv1.RegistrySources{BlockedRegistries: []string{"quay.io/acmex", "docker.io"}}), nil, want{}},
		"not allowed":        {imageCfg(configv1.RegistrySources{AllowedRegistries: []string{"registry.redhat.io"}}), nil, want{errs: []string{path + invalid + "|allowedRegistries does not list quay.io"}}},
		"allowed wildcard":   {imageCfg(configv1.RegistrySources{AllowedRegistries: []string{"*.io"}}), nil, want{}},
		"signature required": {nil, policy("quay.io/acme"), want{errs: []string{path + invalid + `|ClusterImagePolicy signed requires signed images for scope "quay.io/acme"`}}},
		"policy elsewhere":   {nil, policy("quay.io/openshift-release-dev", "quay.io/acme/os:v1"), want{}},
	} {
		t.Run(name, func(t *testing.T) {
			cluster := newClusterFixture()
			cluster.imageConfig, cluster.policies = tc.cfg, tc.policies
			checkFindings(t, validate(context.Background(), ValidateImagePolicy, goodConfig(), cluster), tc.want)
		})
	}
}

func TestPrebuiltImage(t *testing.T) {
	digested := "quay.io/acme/os@sha256:" + strings.Repeat("c", 64)
	const path = "metadata.annotations[machineconfiguration.openshift.io/pre-built-image]|"
	for name, tc := range map[string]struct {
		image string
		pool  string
		want  want
	}{
		"digested":  {digested, "worker", want{}},
		"tag":       {"quay.io/acme/os:latest", "worker", want{errs: []string{path + invalid + "|must be digested, as quay.io/acme/os@sha256:<digest>"}}},
		"malformed": {"quay.io/Acme/os@sha256:00", "worker", want{errs: []string{path + invalid + "|is not a valid image reference"}}},
		"no pool":   {digested, "infra", want{errs: []string{path + invalid + `|seeds pool "infra", which does not exist`}}},
	} {
		t.Run(name, func(t *testing.T) {
			mosc := goodConfig()
			mosc.Annotations = map[string]string{mco.AnnotationPreBuiltImage: tc.image}
			mosc.Spec.MachineConfigPool.Name = tc.pool
			checkFindings(t, validate(context.Background(), ValidatePrebuiltImage, mosc, newClusterFixture()), tc.want)
		})
	}
	checkFindings(t, validate(context.Background(), ValidatePrebuiltImage, goodConfig(), newClusterFixture()), want{})

	mosc := goodConfig()
	mosc.Annotations = map[string]string{mco.AnnotationPreBuiltImage: digested}
	cluster := newClusterFixture().withSecret(pushSecretFor("quay.io"))
	cluster.pulls = map[string]registry.Result{digested: {Reachable: registry.StatusOK, Pull: registry.StatusFailed, NotFound: true, PullDetail: digested + " does not exist"}}
	checkFindings(t, validate(context.Background(), ValidatePrebuiltImagePull, mosc, cluster), want{errs: []string{path + invalid + "|does not exist; push it or correct the reference"}})
	if cluster.pulledWith[0] == nil || cluster.pulledWith[0].Name != "push" {
		t.Errorf("the pre-built image is pulled with the push secret; got %v", cluster.pulledWith)
	}
}

func TestPushSpecDeletePermission(t *testing.T) {
	cluster := newClusterFixture().withSecret(pushSecretFor("quay.io"))
	cluster.deleteResult = registry.Result{Delete: registry.StatusFailed, DeleteDetail: "the token service of quay.io grants no delete on acme/os"}
	checkFindings(t, validate(context.Background(), ValidatePushSpecDeletePermission, goodConfig(), cluster), want{errs: []string{
		"spec.renderedImagePushSecret.name|" + invalid + "|grants no delete on acme/os; the MCO deletes the images of deleted MachineOSBuilds"}})
	cluster.deleteResult = registry.Result{Delete: registry.StatusUnknown, DeleteDetail: "opaque"}
	checkFindings(t, validate(context.Background(), ValidatePushSpecDeletePermission, goodConfig(), cluster), want{})
}

// A host that gave no answer is not probed again in the same evaluation: each wait costs the whole budget.
func TestSilentHostIsProbedOnce(t *testing.T) {
	base := "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:" + strings.Repeat("a", 64)
	cluster := renderedPool(newClusterFixture().withSecret(pushSecretFor("quay.io")), OSImages{OSImageURL: base})
	cluster.probe = registry.Result{Reachable: registry.StatusUnknown, ReachableDetail: "could not reach quay.io within 3s"}
	v := evaluate(context.Background(), goodConfig(), cluster, denyAll)
	if len(cluster.pulled) != 0 {
		t.Errorf("probed %v after quay.io did not answer", cluster.pulled)
	}
	warnings := findings.AdmissionWarnings(v.Findings.With(findings.Warn))
	if !strings.Contains(strings.Join(warnings, " "), "[base-image-pull] the base OS image") {
		t.Errorf("the skipped probe must still be reported: %q", warnings)
	}
}
