package e2e

import (
	"encoding/base64"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	configv1 "github.com/openshift/api/config/v1"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/test/registry/registrytest"
	"github.com/ocl-guard/ocl-guard/test/testbed"
	"github.com/ocl-guard/ocl-guard/validators"
)

// registrySecret holds user's credentials for the test registry.
func registrySecret(name string, user registrytest.User) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: mco.Namespace},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: pushRegistry.DockerConfigJSON(user)},
	}
}

// preflightPool is a layered pool whose rendered MachineConfig (from the real CRD) starts from osImage, with push
// and pull secrets for the test registry.
func preflightPool(osImage string, push registrytest.User) layeredPool {
	GinkgoHelper()
	p := layeredPool{name: uniqueName("pre"), pushSecret: uniqueName("push"), pullSecret: uniqueName("pull")}
	rendered := &mcfgv1.MachineConfig{ObjectMeta: metav1.ObjectMeta{Name: "rendered-" + p.name + "-0123456789abcdef"},
		Spec: mcfgv1.MachineConfigSpec{OSImageURL: osImage}}
	Expect(kube.Create(ctx, rendered)).To(Succeed())
	pool := newPool(p.name)
	pool.Spec.Configuration.Name = rendered.Name
	Expect(kube.Create(ctx, pool)).To(Succeed())
	Expect(kube.Create(ctx, registrySecret(p.pushSecret, push))).To(Succeed())
	Expect(kube.Create(ctx, registrySecret(p.pullSecret, registrytest.Reader))).To(Succeed())
	return p
}

func pushedImage(path, tag string) string {
	GinkgoHelper()
	image, err := pushRegistry.PushRandomImage(path, tag)
	Expect(err).NotTo(HaveOccurred(), "registry output: %s", pushRegistry.Output())
	return image
}

// warningsOf creates mosc, expects it admitted, deletes it, and returns the warnings of rule.
func warningsOf(mosc *mcfgv1.MachineOSConfig, rule validators.RuleID) string {
	GinkgoHelper()
	got := warnings.During(func() { Expect(kube.Create(ctx, mosc)).To(Succeed()) })
	deleteQuietly(mosc)
	var mine []string
	for _, w := range got {
		if strings.HasPrefix(w, "["+string(rule)+"]") {
			mine = append(mine, strings.TrimPrefix(w, "["+string(rule)+"] "))
		}
	}
	return strings.Join(mine, " ")
}

var _ = Describe("Preflight rules through the real API server", func() {
	var base string
	BeforeEach(func() { base = pushedImage("ocp/rhcos", "4.20") })

	It("stays quiet for a good config: base image pullable, pre-built image by digest, delete granted", func() {
		p := preflightPool(base, registrytest.Pruner)
		mosc := p.machineOSConfig(pushRegistry.Repository("acme/os-image") + ":latest")
		mosc.Annotations = map[string]string{mco.AnnotationPreBuiltImage: base}
		got := warnings.During(func() { Expect(kube.Create(ctx, mosc)).To(Succeed()) })
		deleteQuietly(mosc)
		for _, rule := range []validators.RuleID{validators.RuleBaseImagePull, validators.RuleContainerfileImages, validators.RuleEntitlement,
			validators.RulePushSecretLifetime, validators.RuleImagePolicy, validators.RulePrebuiltImage, validators.RulePrebuiltImagePull,
			validators.RulePushSpecDeletePermission, validators.RuleContainerfile} {
			Expect(got).NotTo(ContainElement(HavePrefix("["+string(rule)+"]")), "warnings: %q", got)
		}
	})

	It("base-image-pull: warns that the rendered config's base image is absent, and denies when set to deny", func() {
		p := preflightPool(pushRegistry.Repository("ocp/rhcos:4.99"), registrytest.Pruner)
		mosc := p.machineOSConfig(pushRegistry.Repository("acme/os-image") + ":latest")
		Expect(warningsOf(mosc.DeepCopy(), validators.RuleBaseImagePull)).To(SatisfyAll(
			ContainSubstring("spec.baseImagePullSecret.name:"), ContainSubstring("has no manifest 4.99 in ocp/rhcos")))
		defer actions.set(validators.RuleBaseImagePull, validators.ActionDeny)()
		Expect(expectInvalid(kube.Create(ctx, mosc), "spec.baseImagePullSecret.name", metav1.CauseTypeFieldValueInvalid, validators.RuleBaseImagePull)).
			To(ContainSubstring("push it or correct the reference"))
	})

	It("base-image-pull: denies when the pull secret is refused", func() {
		defer actions.set(validators.RuleBaseImagePull, validators.ActionDeny)()
		p := preflightPool(base, registrytest.Pruner)
		wrong := uniqueName("wrong")
		Expect(kube.Create(ctx, registrySecret(wrong, registrytest.User{Name: "reader", Password: "not-the-password"}))).To(Succeed())
		mosc := p.machineOSConfig(pushRegistry.Repository("acme/os-image") + ":latest")
		mosc.Spec.BaseImagePullSecret.Name = wrong
		msg := expectInvalid(kube.Create(ctx, mosc), "spec.baseImagePullSecret.name", metav1.CauseTypeFieldValueInvalid, validators.RuleBaseImagePull)
		Expect(msg).To(SatisfyAll(ContainSubstring("refused the credentials"), ContainSubstring("base image pull secret "+wrong)))
	})

	It("containerfile-images: a short name and a missing private image in COPY --from", func() {
		defer actions.set(validators.RuleContainerfileImages, validators.ActionDeny)()
		p := preflightPool(base, registrytest.Pruner)
		mosc := p.machineOSConfig(pushRegistry.Repository("acme/os-image") + ":latest")
		mosc.Spec.Containerfile[0].Content = "FROM configs AS final\nCOPY --from=" + pushRegistry.Repository("private/tools:9") +
			" /t /t\nCOPY --from=ubi9/ubi-minimal /etc/os-release /tmp/\n"
		msg := expectInvalid(kube.Create(ctx, mosc), "spec.containerFile[0].content", metav1.CauseTypeFieldValueInvalid, validators.RuleContainerfileImages)
		Expect(msg).To(SatisfyAll(ContainSubstring(`line 3: COPY --from "ubi9/ubi-minimal" is a short name`),
			ContainSubstring("line 2: COPY --from "+pushRegistry.Repository("private/tools:9")), ContainSubstring("does not exist")))
	})

	It("containerfile: denies what the MCO's own validation refuses though buildkit accepts it", func() {
		p := createLayeredPool("quay.io")
		mosc := p.machineOSConfig("quay.io/acme/os-image:latest")
		mosc.Spec.Containerfile[0].Content = "FROM configs AS final\nRUN\n"
		Expect(expectInvalid(kube.Create(ctx, mosc), "spec.containerFile[0].content", metav1.CauseTypeFieldValueInvalid, validators.RuleContainerfile)).
			To(ContainSubstring("Containerfile validation failed: RUN instruction requires a command"))
	})

	It("containerfile: admits a Containerfile the MCO accepts and warns about what fails later; containerfile-images says what a bare FROM word is not", func() {
		p := createLayeredPool("quay.io")
		mosc := p.machineOSConfig("quay.io/acme/os-image:latest")
		// A public example's shape: a stage named machineconfig, then a final stage on a name that is no stage.
		mosc.Spec.Containerfile[0].Content = "FROM configs AS machineconfig\nFROM base AS final\nLABEL description=my layered image\nCOPY etc /etc\n"
		Expect(warningsOf(mosc.DeepCopy(), validators.RuleContainerfile)).To(SatisfyAll(
			ContainSubstring(`buildkit's Dockerfile parser refuses it (Syntax error - can't find = in "layered"`),
			ContainSubstring("the MCO lets it through")))
		mosc.Spec.Containerfile[0].Content = "FROM configs AS machineconfig\nFROM base AS final\nCOPY etc /etc\n"
		Expect(warningsOf(mosc.DeepCopy(), validators.RuleContainerfile)).To(SatisfyAll(
			ContainSubstring("line 3: COPY etc copies from the build context"),
			ContainSubstring("the last stage (line 2: FROM base AS final) does not build on the MCO's configs stage")))
		Expect(warningsOf(mosc.DeepCopy(), validators.RuleContainerfileImages)).To(ContainSubstring(
			`line 2: FROM base: "base" is neither a stage of this Containerfile (machineconfig) or of the MCO's (extract, configs) nor a fully qualified image`))
	})

	It("pushspec-ecr-repository: says that Amazon ECR creates no repository on push when the registry cannot tell", func() {
		const ecr = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
		p := createLayeredPool(ecr)
		mosc := p.machineOSConfig(ecr + "/acme/os-image:latest")
		Expect(warningsOf(mosc, validators.RulePushSpecECRRepository)).To(SatisfyAll(
			ContainSubstring(ecr+" is Amazon ECR, which does not create repositories on push: make sure repository acme/os-image exists"),
			ContainSubstring("not verified"), Not(ContainSubstring(fakePassword))))
	})

	It("entitlement: warns about package installs without entitlement or repositories, and is quiet once they exist", func() {
		// The webhook watches these objects, so each change shows as soon as its watch event arrives: Eventually.
		p := createLayeredPool("quay.io")
		mosc := p.machineOSConfig("quay.io/acme/os-image:latest")
		entitlementWarning := func() string { return warningsOf(mosc.DeepCopy(), validators.RuleEntitlement) }
		Expect(kube.Delete(ctx, testbed.EntitlementSecret())).To(Succeed())
		Eventually(entitlementWarning).Should(SatisfyAll(
			ContainSubstring("spec.containerFile[0].content: Invalid value: line 2 installs packages"), ContainSubstring("etc-pki-entitlement")))

		repos := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: mco.Namespace, Name: mco.YumReposConfigMapName},
			Data: map[string]string{"rhel.repo": "[rhel]\nbaseurl=https://repo.example.com/rhel\n"}}
		Expect(kube.Create(ctx, repos)).To(Succeed())
		Eventually(entitlementWarning).Should(BeEmpty())

		// Back as the other specs expect it: the entitlement alone keeps the rule quiet.
		deleteQuietly(repos)
		Expect(kube.Create(ctx, testbed.EntitlementSecret())).To(Succeed())
		Eventually(entitlementWarning).Should(BeEmpty())
	})

	It("push-secret-lifetime: warns about a ServiceAccount's rotating dockercfg secret", func() {
		p := createLayeredPool("quay.io")
		rotating := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: uniqueName("builder-dockercfg"), Namespace: mco.Namespace,
				Annotations: map[string]string{corev1.ServiceAccountNameKey: "builder"}},
			Type: corev1.SecretTypeDockercfg,
			Data: map[string][]byte{corev1.DockerConfigKey: []byte(`{"quay.io":{"username":"robot","password":"` + fakePassword + `","auth":"` +
				base64.StdEncoding.EncodeToString([]byte("robot:"+fakePassword)) + `"}}`)},
		}
		Expect(kube.Create(ctx, rotating)).To(Succeed())
		mosc := p.machineOSConfig("quay.io/acme/os-image:latest")
		mosc.Spec.RenderedImagePushSecret.Name = rotating.Name
		Expect(warningsOf(mosc, validators.RulePushSecretLifetime)).To(SatisfyAll(
			ContainSubstring("spec.renderedImagePushSecret.name:"), ContainSubstring("ServiceAccount builder, which OpenShift rotates"),
			Not(ContainSubstring(fakePassword))))
	})

	It("image-policy: warns about a blocked registry and a signature-requiring ClusterImagePolicy", func() {
		setBlockedRegistries("blocked.example.com")
		defer setBlockedRegistries()
		policy := &configv1.ClusterImagePolicy{ObjectMeta: metav1.ObjectMeta{Name: uniqueName("signed")},
			Spec: configv1.ClusterImagePolicySpec{Scopes: []configv1.ImageScope{"signed.example.com/acme"},
				Policy: configv1.ImageSigstoreVerificationPolicy{RootOfTrust: configv1.PolicyRootOfTrust{
					PolicyType: configv1.PublicKeyRootOfTrust,
					PublicKey:  &configv1.ImagePolicyPublicKeyRootOfTrust{KeyData: []byte(testPublicKey)},
				}}}}
		Expect(kube.Create(ctx, policy)).To(Succeed())
		defer deleteQuietly(policy)

		blocked := createLayeredPool("blocked.example.com").machineOSConfig("blocked.example.com/acme/os:latest")
		Expect(warningsOf(blocked, validators.RuleImagePolicy)).To(SatisfyAll(
			ContainSubstring("spec.renderedImagePushSpec:"), ContainSubstring(`blockedRegistries lists "blocked.example.com"`)))
		signed := createLayeredPool("signed.example.com").machineOSConfig("signed.example.com/acme/os:latest")
		Expect(warningsOf(signed, validators.RuleImagePolicy)).To(SatisfyAll(
			ContainSubstring("spec.renderedImagePushSpec:"), ContainSubstring("ClusterImagePolicy "+policy.Name+" requires signed images")))
	})

	It("prebuilt-image: denies a tag, and prebuilt-image-pull denies a digest the registry does not have", func() {
		p := preflightPool(base, registrytest.Pruner)
		mosc := p.machineOSConfig(pushRegistry.Repository("acme/os-image") + ":latest")
		mosc.Annotations = map[string]string{mco.AnnotationPreBuiltImage: pushRegistry.Repository("ocp/rhcos:4.20")}
		const path = "metadata.annotations[machineconfiguration.openshift.io/pre-built-image]"
		Expect(expectInvalid(kube.Create(ctx, mosc.DeepCopy()), path, metav1.CauseTypeFieldValueInvalid, validators.RulePrebuiltImage)).
			To(ContainSubstring("must be digested"))
		mosc.Annotations[mco.AnnotationPreBuiltImage] = pushRegistry.Repository("ocp/rhcos") + "@sha256:" + strings.Repeat("0", 64)
		Expect(expectInvalid(kube.Create(ctx, mosc), path, metav1.CauseTypeFieldValueInvalid, validators.RulePrebuiltImagePull)).
			To(ContainSubstring("does not exist"))
	})

	It("pushspec-delete-permission: warns when the push secret's token grants no delete", func() {
		p := preflightPool(base, registrytest.Writer)
		mosc := p.machineOSConfig(pushRegistry.Repository("acme/os-image") + ":latest")
		Expect(warningsOf(mosc, validators.RulePushSpecDeletePermission)).To(SatisfyAll(
			ContainSubstring("spec.renderedImagePushSecret.name:"), ContainSubstring("grants no delete on acme/os-image")))
	})
})

// setBlockedRegistries writes the one image.config.openshift.io object, creating it when needed.
func setBlockedRegistries(blocked ...string) {
	GinkgoHelper()
	cfg := &configv1.Image{ObjectMeta: metav1.ObjectMeta{Name: "cluster"}}
	err := kube.Get(ctx, client.ObjectKeyFromObject(cfg), cfg)
	cfg.Spec.RegistrySources.BlockedRegistries = blocked
	if apierrors.IsNotFound(err) {
		Expect(kube.Create(ctx, cfg)).To(Succeed())
		return
	}
	Expect(err).NotTo(HaveOccurred())
	Expect(kube.Update(ctx, cfg)).To(Succeed())
}

// testPublicKey is a syntactically valid PEM public key for the ClusterImagePolicy CRD's validation.
const testPublicKey = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEWvMVyJZI+RPRUy7yMGOxvXOKBtqB
HtoRNxRJeNgz7SE5mBtLHsbIELOpxl1cBLoMBSwlT1hoVYm4TAp9mOJeiA==
-----END PUBLIC KEY-----`
