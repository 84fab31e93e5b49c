package e2e

import (
	"errors"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ocl-guard/ocl-guard/findings"
	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/validators"
)

// expectInvalid asserts a standard Invalid status with one cause on field, and returns the message.
func expectInvalid(err error, field string, causeType metav1.CauseType, rule validators.RuleID) string {
	GinkgoHelper()
	Expect(err).To(HaveOccurred())
	var status *apierrors.StatusError
	Expect(errors.As(err, &status)).To(BeTrue(), "not a status error: %v", err)
	Expect(apierrors.IsInvalid(err)).To(BeTrue(), "expected Invalid, got %s: %v", status.ErrStatus.Reason, err)
	Expect(status.ErrStatus.Details).NotTo(BeNil())
	Expect(status.ErrStatus.Details.Causes).To(ContainElement(SatisfyAll(
		HaveField("Field", field),
		HaveField("Type", causeType),
		HaveField("Message", ContainSubstring("["+string(rule)+"]")),
	)), "causes: %+v", status.ErrStatus.Details.Causes)
	Expect(err.Error()).NotTo(ContainSubstring(fakePassword))
	return err.Error()
}

var _ = Describe("MachineOSConfig admission", func() {
	It("admits a good config, with the tag-replacement warning visible to the client", func() {
		p := createLayeredPool("quay.io")
		mosc := p.machineOSConfig("quay.io/acme/os-image:latest")
		got := warnings.During(func() { Expect(kube.Create(ctx, mosc)).To(Succeed()) })
		Expect(got).To(ContainElement(SatisfyAll(ContainSubstring("[pushspec-syntax]"), ContainSubstring("quay.io/acme/os-image:<MachineOSBuild name>"))))
		deleteQuietly(mosc)
	})

	DescribeTable("denies a broken config with the field path, the fix and the rule ID",
		func(rule validators.RuleID, field string, causeType metav1.CauseType, breakIt func(p layeredPool, m *mcfgv1.MachineOSConfig), wantMessage string) {
			p := createLayeredPool("quay.io")
			mosc := p.machineOSConfig("quay.io/acme/os-image:latest")
			breakIt(p, mosc)
			err := kube.Create(ctx, mosc)
			Expect(expectInvalid(err, field, causeType, rule)).To(ContainSubstring(wantMessage))
		},
		Entry("missing push secret", validators.RuleSecretExists, "spec.renderedImagePushSecret.name", metav1.CauseTypeFieldValueNotFound,
			func(_ layeredPool, m *mcfgv1.MachineOSConfig) { m.Spec.RenderedImagePushSecret.Name = "does-not-exist" },
			`no Secret "does-not-exist" in namespace openshift-machine-config-operator`),
		Entry("missing base image pull secret", validators.RuleSecretExists, "spec.baseImagePullSecret.name", metav1.CauseTypeFieldValueNotFound,
			func(_ layeredPool, m *mcfgv1.MachineOSConfig) { m.Spec.BaseImagePullSecret.Name = "gone" },
			"oc create secret docker-registry gone -n openshift-machine-config-operator"),
		Entry("opaque push secret", validators.RuleSecretFormat, "spec.renderedImagePushSecret.name", metav1.CauseTypeFieldValueInvalid,
			func(p layeredPool, m *mcfgv1.MachineOSConfig) {
				name := uniqueName("opaque")
				Expect(kube.Create(ctx, &corev1.Secret{
					ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: mco.Namespace},
					StringData: map[string]string{"password": fakePassword},
				})).To(Succeed())
				m.Spec.RenderedImagePushSecret.Name = name
			},
			`has type "Opaque"; the MCO accepts only kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg`),
		Entry("push secret with an identity token, which the MCO's strict decoder refuses", validators.RuleSecretFormat, "spec.renderedImagePushSecret.name", metav1.CauseTypeFieldValueInvalid,
			func(p layeredPool, m *mcfgv1.MachineOSConfig) {
				name := uniqueName("token")
				Expect(kube.Create(ctx, &corev1.Secret{
					ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: mco.Namespace},
					Type:       corev1.SecretTypeDockerConfigJson,
					Data:       map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{"quay.io":{"identitytoken":"` + fakePassword + `"}}}`)},
				})).To(Succeed())
				m.Spec.RenderedImagePushSecret.Name = name
			},
			`the entry for "quay.io" has fields "identitytoken", which the MCO's strict decoder refuses`),
		Entry("push secret with empty auths, which the API server accepts", validators.RuleSecretFormat, "spec.renderedImagePushSecret.name", metav1.CauseTypeFieldValueInvalid,
			func(p layeredPool, m *mcfgv1.MachineOSConfig) {
				name := uniqueName("empty")
				Expect(kube.Create(ctx, &corev1.Secret{
					ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: mco.Namespace},
					Type:       corev1.SecretTypeDockerConfigJson,
					Data:       map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{}}`)},
				})).To(Succeed())
				m.Spec.RenderedImagePushSecret.Name = name
			},
			"holds no registry entries"),
		Entry("push secret without credentials for the push registry", validators.RuleSecretRegistryAuth, "spec.renderedImagePushSecret.name", metav1.CauseTypeFieldValueInvalid,
			func(_ layeredPool, m *mcfgv1.MachineOSConfig) {
				m.Spec.RenderedImagePushSpec = "registry.example.com:5000/acme/os-image:latest"
			},
			`no credentials buildah uses for registry.example.com:5000/acme/os-image (from renderedImagePushSpec), so the push goes out without any`),
		Entry("push secret whose only key is a kubelet wildcard, which buildah ignores", validators.RuleSecretRegistryAuth, "spec.renderedImagePushSecret.name", metav1.CauseTypeFieldValueInvalid,
			func(p layeredPool, m *mcfgv1.MachineOSConfig) {
				Expect(kube.Create(ctx, dockerConfigSecret(p.pushSecret+"-wildcard", "*.example.com"))).To(Succeed())
				m.Spec.RenderedImagePushSecret.Name = p.pushSecret + "-wildcard"
				m.Spec.RenderedImagePushSpec = "registry.example.com/acme/os-image:latest"
			},
			`key "*.example.com": wildcard keys are a kubelet feature: buildah ignores them`),
		Entry("uppercase repository path that the CRD lets through", validators.RulePushSpecSyntax, "spec.renderedImagePushSpec", metav1.CauseTypeFieldValueInvalid,
			func(_ layeredPool, m *mcfgv1.MachineOSConfig) {
				m.Spec.RenderedImagePushSpec = "quay.io/mco/renderedImg:latest"
			},
			`repository path "mco/renderedImg" must be lowercase, or the MCO's reference parser refuses it; use quay.io/mco/renderedimg:latest`),
		Entry("missing pool", validators.RulePoolExists, "spec.machineConfigPool.name", metav1.CauseTypeFieldValueNotFound,
			func(_ layeredPool, m *mcfgv1.MachineOSConfig) {
				m.Name = uniqueName("nopool")
				m.Spec.MachineConfigPool.Name = m.Name
			},
			"'oc get machineconfigpools' lists the pools"),
		Entry("Containerfile with an unknown instruction", validators.RuleContainerfile, "spec.containerFile[0].content", metav1.CauseTypeFieldValueInvalid,
			func(_ layeredPool, m *mcfgv1.MachineOSConfig) {
				m.Spec.Containerfile[0].Content = "FROM configs AS final\nRUNN rpm-ostree install tree\n"
			},
			`line 2 of containerFile[0].content: the MCO refuses it before any build starts: "Containerfile validation failed: unknown Dockerfile instruction: runn"; RUNN is no Containerfile instruction; did you mean RUN?`),
	)

	It("admits with a warning when the rule is in warn mode", func() {
		defer actions.set(validators.RulePushSpecSyntax, validators.ActionWarn)()
		p := createLayeredPool("quay.io")
		mosc := p.machineOSConfig("quay.io/mco/renderedImg:latest")
		got := warnings.During(func() { Expect(kube.Create(ctx, mosc)).To(Succeed()) })
		Expect(got).To(ContainElement(HavePrefix("[pushspec-syntax] spec.renderedImagePushSpec: Invalid value:")))
		Expect(strings.Join(got, " ")).To(ContainSubstring("must be lowercase"))
		for _, w := range got {
			Expect(len([]rune(w))).To(BeNumerically("<=", findings.MaxWarningLength))
		}
		deleteQuietly(mosc)
	})

	It("does not run a rule that is off", func() {
		defer actions.set(validators.RulePoolExists, validators.ActionOff)()
		p := createLayeredPool("quay.io")
		mosc := p.machineOSConfig("quay.io/acme/os-image:latest")
		mosc.Name = uniqueName("nopool")
		mosc.Spec.MachineConfigPool.Name = mosc.Name
		Expect(kube.Create(ctx, mosc)).To(Succeed())
		deleteQuietly(mosc)
	})

	It("gives dry-run requests the same verdict and warnings, and stores nothing", func() {
		p := createLayeredPool("quay.io")
		broken := p.machineOSConfig("quay.io/mco/renderedImg:latest")
		err := kube.Create(ctx, broken.DeepCopy(), client.DryRunAll)
		expectInvalid(err, "spec.renderedImagePushSpec", metav1.CauseTypeFieldValueInvalid, validators.RulePushSpecSyntax)

		good := p.machineOSConfig("quay.io/acme/os-image:latest")
		got := warnings.During(func() { Expect(kube.Create(ctx, good, client.DryRunAll)).To(Succeed()) })
		Expect(got).To(ContainElement(ContainSubstring("[pushspec-syntax]")))
		Expect(apierrors.IsNotFound(kube.Get(ctx, client.ObjectKeyFromObject(good), &mcfgv1.MachineOSConfig{}))).To(BeTrue())
	})

	It("allows an annotation-only update after the push secret was deleted, with a warning", func() {
		p := createLayeredPool("quay.io")
		mosc := p.machineOSConfig("quay.io/acme/os-image:latest")
		Expect(kube.Create(ctx, mosc)).To(Succeed())
		Expect(kube.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: p.pushSecret, Namespace: mco.Namespace}})).To(Succeed())

		// The MCO records its build on the config and clears the rebuild annotation; neither may be refused.
		patch := client.MergeFrom(mosc.DeepCopy())
		mosc.Annotations = map[string]string{"machineconfiguration.openshift.io/current-machine-os-build": p.name + "-0123456789abcdef0123456789abcdef"}
		got := warnings.During(func() { Expect(kube.Patch(ctx, mosc, patch)).To(Succeed()) })
		Expect(got).To(ContainElement(HavePrefix(`[secret-exists] spec.renderedImagePushSecret.name: Not found: "` + p.pushSecret + `": no Secret`)))

		// A spec change is validated again, and refused while the secret is missing.
		patch = client.MergeFrom(mosc.DeepCopy())
		mosc.Spec.RenderedImagePushSpec = "quay.io/acme/os-image:v2"
		expectInvalid(kube.Patch(ctx, mosc, patch), "spec.renderedImagePushSecret.name", metav1.CauseTypeFieldValueNotFound, validators.RuleSecretExists)
		deleteQuietly(mosc)
	})
})
