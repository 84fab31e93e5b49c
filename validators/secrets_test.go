package validators

import (
	"context"
	"testing"

	"github.com/ocl-guard/ocl-guard/mco"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestValidateSecretsExist(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cluster func() *clusterFixture
		mosc    func(*mcfgv1.MachineOSConfig)
		want    want
	}{
		{
			name: "push and explicit pull secret present",
			cluster: func() *clusterFixture {
				base := pushSecretFor("registry.redhat.io")
				base.Name = "base"
				return newClusterFixture().withSecret(pushSecretFor("quay.io")).withSecret(base)
			},
			mosc: func(m *mcfgv1.MachineOSConfig) {
				m.Spec.BaseImagePullSecret = &mcfgv1.ImageSecretObjectReference{Name: "base"}
			},
		},
		{
			name:    "push secret missing",
			cluster: newClusterFixture,
			want: want{
				errs:     []string{"spec.renderedImagePushSecret.name|" + notFound + `|no Secret "push" in namespace openshift-machine-config-operator`},
				warnings: []string{"baseImagePullSecret unset: the MCO uses global-pull-secret-copy"},
			},
		},
		{
			name:    "explicit pull secret missing",
			cluster: func() *clusterFixture { return newClusterFixture().withSecret(pushSecretFor("quay.io")) },
			mosc: func(m *mcfgv1.MachineOSConfig) {
				m.Spec.BaseImagePullSecret = &mcfgv1.ImageSecretObjectReference{Name: "base"}
			},
			want: want{errs: []string{"spec.baseImagePullSecret.name|" + notFound + "|oc create secret docker-registry base -n openshift-machine-config-operator"}},
		},
		{
			name: "pull secret unset, global copy absent, cluster pull secret present: fallback explained, never denied",
			cluster: func() *clusterFixture {
				return newClusterFixture().withSecret(pushSecretFor("quay.io"))
			},
			want: want{warnings: []string{"the MCO uses global-pull-secret-copy, a copy of openshift-config/pull-secret"}},
		},
		{
			name: "pull secret unset, global copy absent, cluster pull secret absent too",
			cluster: func() *clusterFixture {
				c := newClusterFixture().withSecret(pushSecretFor("quay.io"))
				c.clusterPull = false
				return c
			},
			want: want{warnings: []string{"openshift-config/pull-secret missing: base image pulls will fail"}},
		},
		{
			name: "pull secret unset, global copy present: nothing to say",
			cluster: func() *clusterFixture {
				c := newClusterFixture().withSecret(pushSecretFor("quay.io"))
				s := pushSecretFor("registry.redhat.io")
				s.Name = mco.GlobalPullSecretCopy
				return c.withSecret(s)
			},
		},
		{
			name: "lookup refused: warn, do not deny on our own failure",
			cluster: func() *clusterFixture {
				c := newClusterFixture()
				c.lookupErr = apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, "push", nil)
				return c
			},
			want: want{warnings: []string{"could not read Secret openshift-machine-config-operator/push (push secret)", "could not read Secret openshift-machine-config-operator/global-pull-secret-copy"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mosc := goodConfig()
			if tc.mosc != nil {
				tc.mosc(mosc)
			}
			checkFindings(t, validate(context.Background(), ValidateSecretsExist, mosc, tc.cluster()), tc.want)
		})
	}
}

func TestValidateSecretFormat(t *testing.T) {
	withType := func(typ corev1.SecretType, key, data string) *corev1.Secret {
		return &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "push", Namespace: mco.Namespace},
			Type:       typ,
			Data:       map[string][]byte{key: []byte(data)},
		}
	}
	const field = "spec.renderedImagePushSecret.name|"
	for _, tc := range []struct {
		name   string
		secret *corev1.Secret
		want   want
	}{
		{"dockerconfigjson with auth", pushSecretFor("quay.io"), want{}},
		{"dockerconfigjson with username and password", dockerConfigJSON("push", `{"auths":{"quay.io":{"username":"u","password":"`+testPassword+`"}}}`), want{}},
		{"legacy dockercfg", withType(corev1.SecretTypeDockercfg, corev1.DockerConfigKey, `{"quay.io":{"auth":"`+basicAuth()+`"}}`), want{}},
		// The MCO decodes both layouts under both keys and converts them, so these are not mistakes.
		{"hosts at the top level of a dockerconfigjson", dockerConfigJSON("push", `{"quay.io":{"auth":"`+basicAuth()+`","email":"a@b.c"}}`), want{}},
		{"auths wrapper in a dockercfg", withType(corev1.SecretTypeDockercfg, corev1.DockerConfigKey, `{"auths":{"quay.io":{"auth":"`+basicAuth()+`"}}}`), want{}},
		{"credential helpers are ignored next to auths", dockerConfigJSON("push", `{"auths":{"quay.io":{"auth":"`+basicAuth()+`"}},"credsStore":"desktop"}`), want{}},
		{"field names match case-insensitively", dockerConfigJSON("push", `{"Auths":{"quay.io":{"Auth":"`+basicAuth()+`"}}}`), want{}},
		{"opaque", withType(corev1.SecretTypeOpaque, "password", testPassword),
			want{errs: []string{field + invalid + `|has type "Opaque"; the MCO accepts only kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg`}}},
		{"dockercfg type with the wrong key", withType(corev1.SecretTypeDockercfg, corev1.DockerConfigJsonKey, `{}`),
			want{errs: []string{field + invalid + `|has no ".dockercfg" key`}}},
		{"both keys", &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "push", Namespace: mco.Namespace}, Type: corev1.SecretTypeDockerConfigJson,
			Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{"quay.io":{"auth":"` + basicAuth() + `"}}}`), corev1.DockerConfigKey: []byte(`{}`)}},
			want{errs: []string{field + invalid + `|also a ".dockercfg" key, which the MCO refuses`}}},
		{"empty key", withType(corev1.SecretTypeDockerConfigJson, corev1.DockerConfigJsonKey, ""),
			want{errs: []string{field + invalid + `|has an empty ".dockerconfigjson" key`}}},
		{"not JSON (the API server refuses it, but the CLI reads files)", dockerConfigJSON("push", "{"+testPassword),
			want{errs: []string{field + invalid + "|not a JSON object"}}},
		{"empty object", dockerConfigJSON("push", `{}`), want{errs: []string{field + invalid + "|holds no registry entries"}}},
		{"empty auths", dockerConfigJSON("push", `{"auths":{}}`), want{errs: []string{field + invalid + "|holds no registry entries"}}},
		{"only a credential helper", dockerConfigJSON("push", `{"credsStore":"desktop"}`),
			want{errs: []string{field + invalid + "|credential helpers do not exist in the build pod"}}},
		{"identity token, which the MCO's decoder refuses", dockerConfigJSON("push", `{"auths":{"quay.io":{"identitytoken":"`+testPassword+`"}}}`),
			want{errs: []string{field + invalid + `|the entry for "quay.io" has fields "identitytoken", which the MCO's strict decoder refuses`}}},
		{"a copied ~/.docker/config.json with HttpHeaders", dockerConfigJSON("push", `{"auths":{"quay.io":{"auth":"`+basicAuth()+`"}},"HttpHeaders":{"User-Agent":"x"}}`),
			want{errs: []string{field + invalid + `|has top-level keys "HttpHeaders", which the MCO's strict decoder refuses`}}},
		{"entries without credentials", dockerConfigJSON("push", `{"auths":{"quay.io":{"email":"a@b.c"},"x.io":{"auth":"bm9jb2xvbg=="}}}`),
			want{errs: []string{field + invalid + "|holds no usable credential"}}},
		{"a key holding URL userinfo is shown by host only", dockerConfigJSON("push", `{"auths":{"https://robot:`+testPassword+`@quay.io/v2/?token=`+testPassword+`":{"identitytoken":"x"}}}`),
			want{errs: []string{field + invalid + `|the entry for "quay.io" has fields "identitytoken"`}}},
		{"entry that is not an object", dockerConfigJSON("push", `{"auths":{"quay.io":"`+testPassword+`"}}`),
			want{errs: []string{field + invalid + `|the entry for "quay.io" is not an object of strings`}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cluster := newClusterFixture().withSecret(tc.secret)
			checkFindings(t, validate(context.Background(), ValidateSecretFormat, goodConfig(), cluster), tc.want)
		})
	}
}

func TestValidateSecretFormatFallbackWarnsOnly(t *testing.T) {
	broken := dockerConfigJSON(mco.GlobalPullSecretCopy, `{"auths":{}}`)
	cluster := newClusterFixture().withSecret(pushSecretFor("quay.io")).withSecret(broken)
	checkFindings(t, validate(context.Background(), ValidateSecretFormat, goodConfig(), cluster),
		want{warnings: []string{"global-pull-secret-copy, the fallback base image pull secret"}})
}

// secret-registry-auth looks credentials up as buildah's containers/image does (registry/authfile, whose own table
// follows containers-auth.json(5) and is cross-checked against containers/image); these cases are the rule's
// messages for each way a key that looks right misses.
func TestValidateSecretRegistryAuth(t *testing.T) {
	const field = "spec.renderedImagePushSecret.name|"
	const none = "push secret holds no credentials buildah uses for "
	for _, tc := range []struct {
		name     string
		pushSpec string
		entries  []string
		want     want
	}{
		{"exact host", "quay.io/acme/os:latest", []string{"quay.io"}, want{}},
		{"host with scheme and /v2/ path", "quay.io/acme/os:latest", []string{"https://quay.io/v2/"}, want{}},
		{"host and port", "registry.example.com:5000/acme/os:latest", []string{"registry.example.com:5000"}, want{}},
		{"port must match", "registry.example.com:5000/acme/os:latest", []string{"registry.example.com"},
			want{errs: []string{field + invalid + "|" + none + `registry.example.com:5000/acme/os (from renderedImagePushSpec), so the push goes out without any; ` +
				`key "registry.example.com": a port is part of the host: registry.example.com is not registry.example.com:5000. ` +
				`buildah tries the keys registry.example.com:5000/acme/os, registry.example.com:5000/acme, registry.example.com:5000 exactly, in that order, ` +
				`then keys written as URLs reduced to their host; the secret has entries for: registry.example.com. Add an entry for registry.example.com:5000 (or registry.example.com:5000/acme/os)`}}},
		{"port 443 is not the default", "quay.io/acme/os:latest", []string{"quay.io:443"},
			want{errs: []string{field + invalid + `|key "quay.io:443": a port is part of the host: quay.io:443 is not quay.io`}}},
		{"namespace key that covers the repository", "quay.io/acme/os:latest", []string{"quay.io/acme"}, want{}},
		{"namespace key is no string prefix", "quay.io/acme-other/os:latest", []string{"quay.io/acme"},
			want{errs: []string{field + invalid + "|" + none + `quay.io/acme-other/os (from renderedImagePushSpec), so the push goes out without any; ` +
				`key "quay.io/acme": a namespace key covers quay.io/acme and the repositories under quay.io/acme/ only, not quay.io/acme-other.`}}},
		{"namespace of another org", "quay.io/acme/os:latest", []string{"quay.io/other"},
			want{errs: []string{field + invalid + `|key "quay.io/other": a namespace key covers quay.io/other and the repositories under it only`}}},
		{"wildcard key", "eu.registry.example.com/acme/os:latest", []string{"*.registry.example.com"},
			want{errs: []string{field + invalid + `|key "*.registry.example.com": wildcard keys are a kubelet feature: buildah ignores them`}}},
		{"trailing slash", "quay.io/acme/os:latest", []string{"quay.io/"},
			want{errs: []string{field + invalid + `|key "quay.io/": the trailing slash: a key without http(s):// must equal quay.io exactly`}}},
		{"case of the host", "quay.io/acme/os:latest", []string{"Quay.io"},
			want{errs: []string{field + invalid + `|key "Quay.io": keys are case-sensitive: write the host as quay.io`}}},
		{"internal registry service", "image-registry.openshift-image-registry.svc:5000/openshift-machine-config-operator/os:latest",
			[]string{"image-registry.openshift-image-registry.svc:5000"}, want{}},
		{"other registries only", "quay.io/acme/os:latest", []string{"registry.redhat.io", "docker.io"},
			want{errs: []string{field + invalid + "|" + none + "quay.io/acme/os (from renderedImagePushSpec), so the push goes out without any. " +
				"buildah tries the keys quay.io/acme/os, quay.io/acme, quay.io exactly, in that order, then keys written as URLs reduced to their host; " +
				"the secret has entries for: docker.io, registry.redhat.io. Add an entry for quay.io (or quay.io/acme/os)"}}},
		{"keys with userinfo are listed without it", "quay.io/acme/os:latest", []string{"https://robot:" + testPassword + "@registry.example.com/acme", "robot:" + testPassword + "@registry.example.com"},
			want{errs: []string{field + invalid + "|the secret has entries for: registry.example.com, registry.example.com/acme. Add"}}},
		{"Docker Hub as podman records it", "docker.io/acme/os:latest", []string{"docker.io"}, want{}},
		{"Docker Hub as docker records it", "docker.io/acme/os:latest", []string{"https://index.docker.io/v1/"}, want{}},
		{"Docker Hub as registry-1.docker.io", "docker.io/acme/os:latest", []string{"registry-1.docker.io"}, want{}},
		{"Docker Hub org key", "docker.io/acme/os:latest", []string{"docker.io/acme"}, want{}},
		{"Docker Hub org key under another host name", "docker.io/acme/os:latest", []string{"index.docker.io/acme"},
			want{errs: []string{field + invalid + `|key "index.docker.io/acme": Docker Hub keys with a path are matched exactly: write docker.io/acme`}}},
		{"several URL keys for one host", "quay.io/acme/os:latest", []string{"https://quay.io/v1/", "https://quay.io/v2/"},
			want{warnings: []string{`spec.renderedImagePushSecret.name: keys "https://quay.io/v1/", "https://quay.io/v2/" all stand for quay.io`}}},
		{"unparseable push spec is left to pushspec-syntax", "quay.io/Acme/os:latest", []string{"x.io"}, want{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mosc := goodConfig()
			mosc.Spec.RenderedImagePushSpec = mcfgv1.ImageTagFormat(tc.pushSpec)
			cluster := newClusterFixture().withSecret(pushSecretFor(tc.entries...))
			checkFindings(t, validate(context.Background(), ValidateSecretRegistryAuth, mosc, cluster), tc.want)
		})
	}
}

// The key buildah uses holds no credential it reads: containers/image reads only "auth" and stops at the first key
// that matches (config.go findCredentialsInFile, decodeDockerAuth).
func TestValidateSecretRegistryAuthEntryWithoutAuth(t *testing.T) {
	const field = "spec.renderedImagePushSecret.name|"
	for _, tc := range []struct {
		name, config string
		want         want
	}{
		{"username and password only", `{"auths":{"quay.io":{"username":"robot","password":"` + testPassword + `"}}}`,
			want{errs: []string{field + invalid + `|the push secret's entry "quay.io" is the one buildah uses for quay.io/acme/os (renderedImagePushSpec), ` +
				`but it has "username" and "password" and no "auth", and buildah reads only "auth" (base64 of user:password), so the push goes out without credentials: ` +
				`put base64 of user:password into its "auth"`}}},
		{"an empty namespace entry hides the host's", `{"auths":{"quay.io/acme":{"email":"a@b.c"},"quay.io":{"auth":"` + basicAuth() + `"}}}`,
			want{errs: []string{field + invalid + `|entry "quay.io/acme" is the one buildah uses for quay.io/acme/os (renderedImagePushSpec), but it has no "auth" ` +
				`(base64 of user:password), so the push goes out without credentials (buildah stops at the first key that matches and never reads "quay.io")`}}},
		{"username, password and auth, as oc create secret docker-registry writes them", `{"auths":{"quay.io":{"username":"robot","password":"` + testPassword + `","auth":"` + basicAuth() + `"}}}`, want{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cluster := newClusterFixture().withSecret(dockerConfigJSON("push", tc.config))
			checkFindings(t, validate(context.Background(), ValidateSecretRegistryAuth, goodConfig(), cluster), tc.want)
		})
	}
}

func TestValidateSecretRegistryAuthReadsTheLegacyLayoutLikeTheMCO(t *testing.T) {
	legacy := dockerConfigJSON("push", `{"quay.io":{"auth":"`+basicAuth()+`"}}`)
	cluster := newClusterFixture().withSecret(legacy)
	checkFindings(t, validate(context.Background(), ValidateSecretRegistryAuth, goodConfig(), cluster), want{})
}
