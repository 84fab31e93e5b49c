package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/registry"
	"github.com/ocl-guard/ocl-guard/test/registry/registrytest"
	"github.com/ocl-guard/ocl-guard/validators"
	"github.com/ocl-guard/ocl-guard/validators/validatorstest"
)

func pullSecret(reg *registrytest.Registry, u registrytest.User, version string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "pull", Namespace: mco.Namespace, UID: types.UID("uid-" + u.Name), ResourceVersion: version},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: reg.DockerConfigJSON(u)},
	}
}

// keyedSecret is a pull secret whose one entry, for key, holds u's credentials as 'oc create secret docker-registry'
// writes them.
func keyedSecret(key string, u registrytest.User) *corev1.Secret {
	auth := base64.StdEncoding.EncodeToString([]byte(u.Name + ":" + u.Password))
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "pull", Namespace: mco.Namespace, UID: types.UID("uid-key-" + key), ResourceVersion: "1"},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{"` + key + `":{"username":"` + u.Name +
			`","password":"` + u.Password + `","auth":"` + auth + `"}}}`)},
	}
}

func pushImage(t testing.TB, reg *registrytest.Registry, path, tag string) string {
	t.Helper()
	digested, err := reg.PushRandomImage(path, tag)
	if err != nil {
		t.Fatalf("pushing %s:%s: %v\nregistry output:\n%s", path, tag, err, reg.Output())
	}
	return digested
}

// The pull probe against the real registry with token auth over TLS: present by tag and by digest, absent, and
// refused credentials; a second probe is a cache hit.
func TestPullProbe(t *testing.T) {
	reg := registrytest.StartToken(t)
	p := newProber(t, reg, false)
	digested := pushImage(t, reg, "base/os", "4.20")
	ctx := context.Background()
	reader := pullSecret(reg, registrytest.Reader, "1")
	wrong := pullSecret(reg, registrytest.User{Name: registrytest.Reader.Name, Password: "not-the-password"}, "1")
	wrong.UID = "uid-wrong"

	for name, tc := range map[string]struct {
		image          string
		secret         *corev1.Secret
		pull           registry.Status
		notFound, auth bool
		detail         string
	}{
		"by tag":      {reg.Repository("base/os:4.20"), reader, registry.StatusOK, false, false, "exists and may be pulled"},
		"by digest":   {digested, reader, registry.StatusOK, false, false, "exists and may be pulled"},
		"absent tag":  {reg.Repository("base/os:4.99"), reader, registry.StatusFailed, true, false, "has no manifest 4.99 in base/os"},
		"absent repo": {reg.Repository("nothing/here:1"), reader, registry.StatusFailed, true, false, "does not exist"},
		"refused":     {reg.Repository("base/os:4.20"), wrong, registry.StatusFailed, false, true, "refused the credentials"},
		// The build's tools pick credentials as containers/image does (registry/authfile): a namespace key of
		// another repository, or a kubelet wildcard, leaves the pull anonymous, and the detail says why.
		"another namespace's key": {reg.Repository("base/os:4.20"), keyedSecret(reg.Host+"/base-other", registrytest.Reader), registry.StatusFailed, false, true,
			`refused anonymous requests (Secret "pull" has no key the build's tools use for ` + reg.Host + `/base/os, so they send no credentials; key "` +
				reg.Host + `/base-other": a namespace key covers ` + reg.Host + `/base-other and the repositories under it only)`},
		"the namespace's key": {reg.Repository("base/os:4.20"), keyedSecret(reg.Host+"/base", registrytest.Reader), registry.StatusOK, false, false, "exists and may be pulled"},
		"anonymous":           {reg.Repository("base/os:4.20"), nil, registry.StatusFailed, false, true, "refused"},
		"unparseable ref":     {reg.Host + "/Base/OS:x", reader, registry.StatusSkipped, false, false, "does not parse"},
	} {
		t.Run(name, func(t *testing.T) {
			got := p.ProbePullWithSecret(ctx, tc.image, tc.secret)
			if got.Pull != tc.pull || got.NotFound != tc.notFound || got.CredentialsRefused != tc.auth || !strings.Contains(got.PullDetail, tc.detail) {
				t.Errorf("got %+v\nwant Pull=%s NotFound=%v CredentialsRefused=%v detail containing %q\nregistry output:\n%s",
					got, tc.pull, tc.notFound, tc.auth, tc.detail, reg.Output())
			}
			if strings.Contains(got.PullDetail+got.ReachableDetail, registrytest.Reader.Password) {
				t.Error("a detail leaks the password")
			}
		})
	}
	if got := p.ProbePullWithSecret(ctx, digested, reader); !got.Cached || got.Pull != registry.StatusOK {
		t.Errorf("second probe of the same image and secret version: %+v, want a cache hit", got)
	}
	if got := p.ProbePullWithSecret(ctx, digested, pullSecret(reg, registrytest.Reader, "2")); got.Cached {
		t.Errorf("a new secret resourceVersion must be probed anew: %+v", got)
	}
}

func TestDeleteProbe(t *testing.T) {
	reg := registrytest.StartToken(t)
	p := newProber(t, reg, false)
	ctx := context.Background()
	if got := p.ProbeDeleteWithSecret(ctx, reg.Repository(repoPath), pullSecret(reg, registrytest.Pruner, "1")); got.Delete != registry.StatusOK {
		t.Errorf("pruner: %+v", got)
	}
	got := p.ProbeDeleteWithSecret(ctx, reg.Repository(repoPath), pullSecret(reg, registrytest.Writer, "1"))
	if got.Delete != registry.StatusFailed || !strings.Contains(got.DeleteDetail, "grants no delete on "+repoPath) {
		t.Errorf("writer: %+v", got)
	}
	htp := registrytest.StartHtpasswd(t)
	hp := newProber(t, htp, false)
	if got := hp.ProbeDeleteWithSecret(ctx, htp.Repository(repoPath), pullSecret(htp, registrytest.Writer, "1")); got.Delete != registry.StatusUnknown {
		t.Errorf("Basic auth cannot tell the delete right: %+v", got)
	}
}

// The preflight rules with the real prober: base image present, absent and refused; a short name and a private
// image in COPY --from; the pre-built image by digest and by tag.
func TestPreflightRulesAgainstTheRealRegistry(t *testing.T) {
	reg := registrytest.StartToken(t)
	p := newProber(t, reg, false)
	base := pushImage(t, reg, "ocp/rhcos", "4.20")
	private := pushImage(t, reg, "private/tools", "1")
	ctx := context.Background()
	calls := 0
	lookupsWith := func(u registrytest.User, osImage string) *validatorstest.Cluster {
		calls++
		secret := pullSecret(reg, u, "1")
		secret.UID = types.UID(fmt.Sprint("uid-", calls)) // each call its own secret, so no probe answers from another's cache entry
		c := proberCluster(p, secret)
		pool := &mcfgv1.MachineConfigPool{ObjectMeta: metav1.ObjectMeta{Name: "worker"}}
		pool.Spec.Configuration.Name = "rendered-worker-1"
		c.Pools = map[string]*mcfgv1.MachineConfigPool{"worker": pool}
		c.Rendered = map[string]validators.OSImages{"rendered-worker-1": {OSImageURL: osImage}}
		return c
	}
	mosc := &mcfgv1.MachineOSConfig{Spec: mcfgv1.MachineOSConfigSpec{
		MachineConfigPool:       mcfgv1.MachineConfigPoolReference{Name: "worker"},
		BaseImagePullSecret:     &mcfgv1.ImageSecretObjectReference{Name: "pull"},
		RenderedImagePushSecret: mcfgv1.ImageSecretObjectReference{Name: "pull"},
		RenderedImagePushSpec:   mcfgv1.ImageTagFormat(reg.Repository(repoPath) + ":latest"),
		Containerfile: []mcfgv1.MachineOSContainerfile{{ContainerfileArch: mcfgv1.NoArch, Content: fmt.Sprintf(
			"FROM configs AS final\nCOPY --from=%s /bin/tool /usr/bin/tool\nCOPY --from=tools/short:1 /x /x\n", private)}},
	}}

	t.Run("base image present", func(t *testing.T) {
		expectFindings(t, checkRule(ctx, validators.ValidateBaseImagePull, mosc, lookupsWith(registrytest.Reader, base)), nil, nil)
	})
	t.Run("base image absent", func(t *testing.T) {
		f := checkRule(ctx, validators.ValidateBaseImagePull, mosc, lookupsWith(registrytest.Reader, reg.Repository("ocp/rhcos:4.99")))
		expectFindings(t, f, []string{"spec.baseImagePullSecret.name: has no manifest 4.99 in ocp/rhcos"}, nil)
	})
	t.Run("base image pull refused", func(t *testing.T) {
		wrong := registrytest.User{Name: "reader", Password: "wrong"}
		f := checkRule(ctx, validators.ValidateBaseImagePull, mosc, lookupsWith(wrong, base))
		expectFindings(t, f, []string{"spec.baseImagePullSecret.name: the token service of " + reg.Host + " refused the credentials"}, nil)
	})
	t.Run("COPY --from a private image and a short name", func(t *testing.T) {
		f := checkRule(ctx, validators.ValidateContainerfileImages, mosc, lookupsWith(registrytest.Reader, base))
		expectFindings(t, f, []string{`spec.containerFile[0].content: line 3: COPY --from "tools/short:1" is a short name`}, nil)
		wrong := checkRule(ctx, validators.ValidateContainerfileImages, mosc, lookupsWith(registrytest.User{Name: "reader", Password: "wrong"}, base))
		expectFindings(t, wrong, []string{
			`spec.containerFile[0].content: line 3: COPY --from "tools/short:1" is a short name`,
			"spec.containerFile[0].content: line 2: COPY --from " + private + ": the token service of " + reg.Host + " refused",
		}, nil)
	})
	t.Run("pre-built image by digest and by tag", func(t *testing.T) {
		withAnnotation := func(image string) *mcfgv1.MachineOSConfig {
			m := mosc.DeepCopy()
			m.Annotations = map[string]string{mco.AnnotationPreBuiltImage: image}
			return m
		}
		l := lookupsWith(registrytest.Reader, base)
		expectFindings(t, checkRule(ctx, validators.ValidatePrebuiltImage, withAnnotation(base), l), nil, nil)
		expectFindings(t, checkRule(ctx, validators.ValidatePrebuiltImagePull, withAnnotation(base), l), nil, nil)
		gone := reg.Repository("ocp/rhcos") + "@sha256:" + strings.Repeat("0", 64)
		expectFindings(t, checkRule(ctx, validators.ValidatePrebuiltImagePull, withAnnotation(gone), l),
			[]string{"metadata.annotations[machineconfiguration.openshift.io/pre-built-image]: " + gone + " does not exist"}, nil)
		expectFindings(t, checkRule(ctx, validators.ValidatePrebuiltImage, withAnnotation(reg.Repository("ocp/rhcos:4.20")), l),
			[]string{"metadata.annotations[machineconfiguration.openshift.io/pre-built-image]: must be digested"}, nil)
	})
}

// expectFindings checks each error as "field: detail substring" and each warning as a substring, in order.
func expectFindings(t *testing.T, f validators.Findings, errs, warnings []string) {
	t.Helper()
	if len(f.Errs) != len(errs) || len(f.Warnings) != len(warnings) {
		t.Fatalf("got errors %v and warnings %q; want %q and %q", f.Errs, f.Warnings, errs, warnings)
	}
	for i, want := range errs {
		field, detail, _ := strings.Cut(want, ": ")
		if f.Errs[i].Field != field || !strings.Contains(f.Errs[i].Detail, detail) {
			t.Errorf("error %d = %s: %s; want %s containing %q", i, f.Errs[i].Field, f.Errs[i].Detail, field, detail)
		}
	}
	for i, want := range warnings {
		if !strings.Contains(f.Warnings[i], want) {
			t.Errorf("warning %d = %q; want it to contain %q", i, f.Warnings[i], want)
		}
	}
}

// BenchmarkPullProbe measures the pull probe against the real registry with token auth over TLS: "cold" is a cache
// miss every time (ping, pull token, manifest HEAD, connections reused), "warm" is a cache hit.
func BenchmarkPullProbe(b *testing.B) {
	reg := registrytest.MustStart(b, registrytest.Config{Mode: registrytest.Token})
	p := newProber(b, reg, false)
	image := pushImage(b, reg, "base/os", "4.20")
	ctx := context.Background()
	i := 0 // across runs too (-count): a secret version seen before would be a cache hit
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			i++
			if r := p.ProbePullWithSecret(ctx, image, pullSecret(reg, registrytest.Reader, fmt.Sprint(i))); r.Pull != registry.StatusOK || r.Cached {
				b.Fatalf("probe %d: %+v", i, r)
			}
		}
	})
	b.Run("warm", func(b *testing.B) {
		secret := pullSecret(reg, registrytest.Reader, "warm")
		if r := p.ProbePullWithSecret(ctx, image, secret); r.Pull != registry.StatusOK {
			b.Fatalf("warm-up: %+v", r)
		}
		for b.Loop() {
			if r := p.ProbePullWithSecret(ctx, image, secret); !r.Cached {
				b.Fatal("not a cache hit")
			}
		}
	})
}
