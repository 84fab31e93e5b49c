package admissionpolicy

import (
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/admission/plugin/policy/validating"
	"k8s.io/apiserver/pkg/cel/openapi/resolver"
	discoveryclient "k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/config"
	"github.com/ocl-guard/ocl-guard/lookups"
	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/test/testbed"
	"github.com/ocl-guard/ocl-guard/validators"
	"github.com/ocl-guard/ocl-guard/webhook"
)

// stated are the rules config/vap states in CEL.
var stated = []validators.RuleID{validators.RulePushSpecSyntax, validators.RulePrebuiltImage, validators.RuleBuildNameLength}

// mcoServiceAccount is one of the MCO's service accounts, which neither the webhook nor the policies judge.
const mcoServiceAccount = "system:serviceaccount:openshift-machine-config-operator:machine-os-builder"

var (
	digest       = strings.Repeat("0123456789abcdef", 4)
	ruleIDInText = regexp.MustCompile(`\[([a-z0-9-]+)\]`)
)

// syntaxCase is one MachineOSConfig: its name (which the CRD makes its pool's), push spec and pre-built image.
type syntaxCase struct {
	pool     string
	pushSpec string
	prebuilt *string
	// want is what both sides must say: "admit", "deny:<rule>" or "warn:<rule>".
	want string
}

func push(spec, want string) syntaxCase {
	return syntaxCase{pool: "worker", pushSpec: spec, want: want}
}

func pool(name, want string) syntaxCase {
	return syntaxCase{pool: name, pushSpec: "quay.io/acme/os-image:latest", want: want}
}

func prebuilt(image, want string) syntaxCase {
	return syntaxCase{pool: "worker", pushSpec: "quay.io/acme/os-image:latest", prebuilt: &image, want: want}
}

const (
	admit          = "admit"
	denyPushSpec   = "deny:pushspec-syntax"
	denyPrebuilt   = "deny:prebuilt-image"
	warnNameLength = "warn:build-name-length"
)

// a61 is the longest path component the CRD's pattern allows before the last one.
var a61 = strings.Repeat("a", 61)

// path255 is a repository path of 255 characters, the most the grammar allows, in components the CRD allows.
var path255 = a61 + "/" + a61 + "/" + a61 + "/" + a61 + "/bbbbbbb"

// parityCases pass the CRD's own validation, so what refuses them is the policy (or nothing).
var parityCases = map[string]syntaxCase{
	"a plain push spec":                             push("quay.io/acme/os-image:latest", admit),
	"uppercase repository path":                     push("quay.io/example/OS-Image:latest", denyPushSpec),
	"uppercase registry host":                       push("Quay.IO/acme/os-image:latest", admit),
	"uppercase tag":                                 push("quay.io/acme/os-image:Latest", admit),
	"tag of 128 characters":                         push("quay.io/acme/os-image:"+strings.Repeat("t", 128), admit),
	"tag of 129 characters":                         push("quay.io/acme/os-image:"+strings.Repeat("t", 129), denyPushSpec),
	"tag starting with '.'":                         push("quay.io/acme/os-image:.hidden", denyPushSpec),
	"tag starting with '-'":                         push("quay.io/acme/os-image:-x", denyPushSpec),
	"tag starting with '_'":                         push("quay.io/acme/os-image:_x", admit),
	"port 443":                                      push("quay.io:443/acme/os-image:latest", admit),
	"port 65535":                                    push("quay.io:65535/acme/os-image:latest", admit),
	"port 65536":                                    push("quay.io:65536/acme/os-image:latest", denyPushSpec),
	"port 99999":                                    push("quay.io:99999/acme/os-image:latest", denyPushSpec),
	"port 00":                                       push("quay.io:00/acme/os-image:latest", denyPushSpec),
	"port 08080 (leading zero)":                     push("quay.io:08080/acme/os-image:latest", admit),
	"host label starting with '-'":                  push("-quay.io/acme/os-image:latest", denyPushSpec),
	"host label ending with '-'":                    push("quay.io-/acme/os-image:latest", denyPushSpec),
	"Docker Hub without library/":                   push("docker.io/os-image:latest", denyPushSpec),
	"Docker Hub with a namespace":                   push("docker.io/library/os-image:latest", admit),
	"the legacy Docker index host":                  push("index.docker.io/acme/os-image:latest", denyPushSpec),
	"path component starting with '-'":              push("quay.io/acme/-os:latest", denyPushSpec),
	"path component ending with '-'":                push("quay.io/acme/os-:latest", denyPushSpec),
	"path component starting with '_'":              push("quay.io/_acme/os:latest", denyPushSpec),
	"separator '__'":                                push("quay.io/acme/os__image:latest", admit),
	"separator '___'":                               push("quay.io/acme/os___image:latest", denyPushSpec),
	"separator '--'":                                push("quay.io/acme/os--image:latest", admit),
	"separator '.'":                                 push("quay.io/acme/os.image:latest", admit),
	"separator '..'":                                push("quay.io/acme/os..image:latest", denyPushSpec),
	"repository path of 255 characters":             push("quay.io/"+path255+":latest", admit),
	"repository path of 256 characters":             push("quay.io/"+path255+"b:latest", denyPushSpec),
	"path of 255 characters on a long host":         push(strings.Repeat("h", 60)+".example.com/"+path255+":latest", admit),
	"pre-built image, path of 256 characters":       prebuilt("quay.io/"+path255+"b@sha256:"+digest, denyPrebuilt),
	"the internal registry":                         push("image-registry.openshift-image-registry.svc:5000/openshift-machine-config-operator/os-image:latest", admit),
	".svc with an uppercase path":                   push("image-registry.openshift-image-registry.svc:5000/ns/OS:latest", denyPushSpec),
	".svc with a digest":                            push("image-registry.openshift-image-registry.svc:5000/ns/os@sha256:"+digest, denyPushSpec),
	".svc with a space in the host":                 push("image registry.ns.svc:5000/ns/os:latest", denyPushSpec),
	".svc with a port of 20 digits":                 push("registry.ns.svc:99999999999999999999/ns/os:latest", denyPushSpec),
	".svc with port 0005000":                        push("registry.ns.svc:0005000/ns/os:latest", admit),
	".svc with two tags":                            push("registry.ns.svc:5000/ns/os:latest:more", denyPushSpec),
	"pool name of 24 characters":                    pool(strings.Repeat("p", 24), admit),
	"pool name of 25 characters":                    pool(strings.Repeat("p", 25), warnNameLength),
	"pre-built image by digest":                     prebuilt("quay.io/acme/os-image@sha256:"+digest, admit),
	"pre-built image by tag and digest":             prebuilt("quay.io/acme/os-image:v1@sha256:"+digest, admit),
	"pre-built image by tag":                        prebuilt("quay.io/acme/os-image:latest", denyPrebuilt),
	"pre-built image, 63 hex digits":                prebuilt("quay.io/acme/os-image@sha256:"+digest[1:], denyPrebuilt),
	"pre-built image, uppercase hex":                prebuilt("quay.io/acme/os-image@sha256:"+strings.ToUpper(digest), denyPrebuilt),
	"pre-built image, sha512":                       prebuilt("quay.io/acme/os-image@sha512:"+digest+digest, denyPrebuilt),
	"pre-built image, uppercase path":               prebuilt("quay.io/acme/OS@sha256:"+digest, denyPrebuilt),
	"pre-built image on Docker Hub without library": prebuilt("docker.io/os@sha256:"+digest, denyPrebuilt),
	"pre-built image without a host":                prebuilt("os@sha256:"+digest, denyPrebuilt),
	"pre-built image on a dotless host":             prebuilt("myhost/os@sha256:"+digest, denyPrebuilt),
	"pre-built image on an uppercase dotless host":  prebuilt("MyHost/os@sha256:"+digest, admit),
	"pre-built image on localhost":                  prebuilt("localhost/os@sha256:"+digest, admit),
	"pre-built image on an IPv6 host":               prebuilt("[::1]:5000/os@sha256:"+digest, admit),
	"pre-built image, port 99999 (no range check)":  prebuilt("quay.io:99999/os@sha256:"+digest, admit),
	"pre-built image, two digests":                  prebuilt("quay.io/os@sha256:"+digest+"@sha256:"+digest, denyPrebuilt),
	"pre-built image, empty":                        prebuilt("", denyPrebuilt),
	"pre-built image of 600 characters":             prebuilt("quay.io/"+strings.Repeat("a", 600)+"@sha256:"+digest, denyPrebuilt),
}

// divergence is a request on which the API server (with config/vap) and the Go rules disagree, on purpose or
// because CEL cannot say what the Go rule says. The README lists the same ones.
type divergence struct {
	why       string
	goSays    string
	apiServer string
	run       func() (goSays, apiServer string)
}

const (
	refusedByCRD = "refused by the CRD's own validation"
	noWarning    = "admit, no warning"
)

var divergences = map[string]divergence{
	"a pre-built image for a pool that does not exist": {
		why:    "prebuilt-image's pool half needs a lookup; a policy sees only the request",
		goSays: denyPrebuilt, apiServer: admit,
		run: func() (string, string) {
			c := prebuilt("quay.io/acme/os-image@sha256:"+digest, "")
			c.pool = "no-such-pool"
			return goOutcome(machineOSConfig(c)), serverOutcome(machineOSConfig(c))
		},
	},
	"an update that turns an absent containerFile into []": {
		why: "the webhook compares specs with apimachinery's semantic equality (nil and empty lists are equal) and " +
			"only warns on an unchanged spec; CEL's map equality sees a change, so the policy judges the spec",
		goSays: "admit, warning:pushspec-syntax", apiServer: denyPushSpec,
		run: func() (string, string) {
			c := push("quay.io/acme/OS-Image:latest", "")
			c.pool = "empty-list" // created for real: a name no other case uses
			old := createAs(mcoServiceAccount, machineOSConfig(c))
			changed := old.DeepCopy()
			Expect(unstructured.SetNestedSlice(changed.Object, []any{}, "spec", "containerFile")).To(Succeed())
			return webhookOutcome(admissionv1.Update, changed, old), serverUpdateOutcome(changed)
		},
	},
	"a spec-preserving update of a config whose name is too long": {
		why:    "the webhook reports every finding as a warning on such updates; the policies skip them",
		goSays: "admit, warning:build-name-length, warning:pushspec-syntax", apiServer: noWarning,
		run: func() (string, string) {
			old := createAs(mcoServiceAccount, machineOSConfig(pool(strings.Repeat("q", 25), "")))
			changed := old.DeepCopy()
			changed.SetLabels(map[string]string{"team": "os"})
			return webhookOutcome(admissionv1.Update, changed, old), serverUpdateOutcome(changed)
		},
	},
	"the tag that every build replaces": {
		why:    "pushspec-syntax's warning on a valid push spec is left to the webhook: a policy warning on every write would be noise",
		goSays: "admit, warning:pushspec-syntax", apiServer: noWarning,
		run: func() (string, string) {
			mosc := machineOSConfig(push("quay.io/acme/os-image:latest", ""))
			f := goVerdictOf(mosc, validators.RulePushSpecSyntax)
			Expect(f.Errs).To(BeEmpty())
			goSays := admit
			if len(f.Warnings) > 0 {
				goSays = "admit, warning:pushspec-syntax"
			}
			server := serverOutcome(mosc)
			if server == admit {
				server = noWarning
			}
			return goSays, server
		},
	},
	"a write by the MCO's service account": {
		why:    "scope, as the webhook's matchConditions: the MCO's own writes are never judged",
		goSays: denyPushSpec, apiServer: admit,
		run: func() (string, string) {
			c := push("quay.io/acme/OS-Image:latest", "")
			server := admit
			if err := writeAs(mcoServiceAccount, machineOSConfig(c)); err != nil {
				server = err.Error()
			}
			return goOutcome(machineOSConfig(c)), server
		},
	},
	"a one-digit port": {
		why:    "the CRD's pattern wants 2 to 5 digits; the reference grammar takes any",
		goSays: admit, apiServer: refusedByCRD,
		run: func() (string, string) {
			c := push("quay.io:5/acme/os-image:latest", "")
			return goOutcome(machineOSConfig(c)), serverOutcome(machineOSConfig(c))
		},
	},
	"a host without a dot": {
		why:    "the CRD's pattern wants a dotted host; the reference grammar takes localhost",
		goSays: admit, apiServer: refusedByCRD,
		run: func() (string, string) {
			c := push("localhost:5000/acme/os-image:latest", "")
			return goOutcome(machineOSConfig(c)), serverOutcome(machineOSConfig(c))
		},
	},
	"a path component of 62 characters before the last": {
		why:    "the CRD's pattern limits those components to 61 characters; the grammar only the whole name, to 255",
		goSays: admit, apiServer: refusedByCRD,
		run: func() (string, string) {
			c := push("quay.io/"+a61+"a/os-image:latest", "")
			return goOutcome(machineOSConfig(c)), serverOutcome(machineOSConfig(c))
		},
	},
}

var _ = Describe("config/vap in the audit profile, with the webhook down", Ordered, func() {
	BeforeAll(func() {
		objs, err := testbed.Render(filepath.Join(testbed.RepoRoot(), "config", "overlays", "audit"))
		Expect(err).NotTo(HaveOccurred())
		var policies []string
		for _, obj := range objs {
			switch obj.GetKind() {
			case "ValidatingWebhookConfiguration":
				vwc := typed[admissionregistrationv1.ValidatingWebhookConfiguration](obj)
				Expect(*vwc.Webhooks[0].FailurePolicy).To(Equal(admissionregistrationv1.Ignore), "the audit profile")
				pointAtNothing(obj)
			case "ValidatingAdmissionPolicy":
				policies = append(policies, obj.GetName())
			}
			Expect(kube.Create(ctx, obj)).To(Succeed(), "%s %s", obj.GetKind(), obj.GetName())
		}
		Expect(policies).To(ConsistOf("ocl-guard-syntax", "ocl-guard-syntax-warn"))
		// The MCO's service account may write MachineOSConfigs, as on a cluster.
		Expect(kube.Create(ctx, &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "mco-test"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: mcoServiceAccount}},
		})).To(Succeed())

		// The policies type-check against the MachineOSConfig schema the API server serves, without a warning: the
		// check kube-controller-manager runs into status.typeChecking (envtest runs no controller manager).
		discovery, err := discoveryclient.NewDiscoveryClientForConfig(cfg)
		Expect(err).NotTo(HaveOccurred())
		checker := &validating.TypeChecker{SchemaResolver: &resolver.ClientDiscoveryResolver{Discovery: discovery}, RestMapper: kube.RESTMapper()}
		for _, obj := range objs {
			if obj.GetKind() == "ValidatingAdmissionPolicy" {
				policy := typed[admissionregistrationv1.ValidatingAdmissionPolicy](obj)
				// Not vacuous: the same checker finds a field the schema does not have, once the API server
				// publishes the CRD's OpenAPI schema (a moment after the CRD is established; before, nothing is
				// type-checked and every policy would pass).
				broken := policy.DeepCopy()
				broken.Spec.Validations = append(broken.Spec.Validations, admissionregistrationv1.Validation{Expression: "object.spec.renderedImagePushSpek == ''"})
				Eventually(func() []admissionregistrationv1.ExpressionWarning { return checker.Check(broken) }).WithTimeout(30*time.Second).
					Should(ContainElement(HaveField("Warning", ContainSubstring("undefined field 'renderedImagePushSpek'"))), obj.GetName())
				Expect(checker.Check(policy)).To(BeEmpty(), obj.GetName())
			}
		}
		// In force once the API server's policy informer has them.
		Eventually(func() string {
			return serverOutcome(machineOSConfig(push("quay.io/acme/OS:latest", "")))
		}).WithTimeout(60 * time.Second).Should(Equal(denyPushSpec))
	})

	It("admits what only the webhook refuses: the webhook is down and ignored", func() {
		// A push secret that does not exist is secret-exists' to refuse, a rule with lookups.
		c := machineOSConfig(push("quay.io/acme/os-image:latest", ""))
		c.Spec.RenderedImagePushSecret.Name = "no-such-secret"
		Expect(goVerdictOf(c, validators.RuleSecretExists).Errs).NotTo(BeEmpty())
		Expect(serverOutcome(c)).To(Equal(admit))
	})

	It("gives the Go rules' verdicts on every push spec, pool name and pre-built image of the table", func() {
		outcomes := map[string]int{}
		for name, c := range parityCases {
			mosc := machineOSConfig(c)
			Expect(goOutcome(mosc)).To(Equal(c.want), "%s: the Go rules", name)
			Expect(serverOutcome(mosc)).To(Equal(c.want), "%s: the API server", name)
			outcomes[c.want]++
		}
		// Every outcome is exercised, so a policy that refuses nothing (or everything) cannot pass.
		Expect(outcomes).To(HaveKey(admit))
		Expect(outcomes).To(HaveKey(denyPushSpec))
		Expect(outcomes).To(HaveKey(denyPrebuilt))
		Expect(outcomes).To(HaveKey(warnNameLength))
		AddReportEntry("parity cases", fmt.Sprint(outcomes))
	})

	It("names the rule ID in every denial and warning, with the field", func() {
		err := write(machineOSConfig(push("quay.io/example/OS-Image:latest", "")))
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "status reason Invalid, as the webhook's: %v", err)
		Expect(err.Error()).To(SatisfyAll(ContainSubstring("spec.renderedImagePushSpec"), ContainSubstring(`repository path "example/OS-Image" must be lowercase`),
			ContainSubstring("use quay.io/example/os-image:latest"), HaveSuffix("[pushspec-syntax]")))
		err = write(machineOSConfig(push("quay.io/acme/-os:latest", "")))
		Expect(err).To(MatchError(ContainSubstring(`path component "-os" is invalid`)))
		c := prebuilt("quay.io/acme/os-image:latest", "")
		err = write(machineOSConfig(c))
		Expect(err).To(MatchError(SatisfyAll(ContainSubstring("metadata.annotations[machineconfiguration.openshift.io/pre-built-image]"), HaveSuffix("[prebuilt-image]"))))
		ws := warnings.During(func() { Expect(write(machineOSConfig(pool(strings.Repeat("p", 30), "")))).To(Succeed()) })
		Expect(fromPolicy(ws)).To(ConsistOf(ContainSubstring("[build-name-length] metadata.name: Too long")))
	})

	It("differs from the Go rules exactly where the known-divergence table says", func() {
		for name, d := range divergences {
			Expect(d.goSays).NotTo(Equal(d.apiServer), "%s: not a divergence", name)
			Expect(d.why).NotTo(BeEmpty())
			goSays, apiServer := d.run()
			Expect(goSays).To(Equal(d.goSays), "%s: the Go side", name)
			if d.apiServer == refusedByCRD {
				Expect(apiServer).To(SatisfyAll(ContainSubstring("the OCI Image name should follow"), Not(ContainSubstring("ValidatingAdmissionPolicy"))), name)
				continue
			}
			Expect(apiServer).To(Equal(d.apiServer), "%s: the API server", name)
		}
	})
})

// machineOSConfig is a case as a MachineOSConfig (its secrets are another rule's business).
func machineOSConfig(c syntaxCase) *mcfgv1.MachineOSConfig {
	m := &mcfgv1.MachineOSConfig{
		ObjectMeta: metav1.ObjectMeta{Name: c.pool},
		Spec: mcfgv1.MachineOSConfigSpec{
			MachineConfigPool:       mcfgv1.MachineConfigPoolReference{Name: c.pool},
			ImageBuilder:            mcfgv1.MachineOSImageBuilder{ImageBuilderType: mcfgv1.JobBuilder},
			RenderedImagePushSecret: mcfgv1.ImageSecretObjectReference{Name: "push-secret"},
			RenderedImagePushSpec:   mcfgv1.ImageTagFormat(c.pushSpec),
		},
	}
	if c.prebuilt != nil {
		m.Annotations = map[string]string{mco.AnnotationPreBuiltImage: *c.prebuilt}
	}
	if c.pool != "no-such-pool" {
		ensurePool(c.pool)
	}
	return m
}

func ensurePool(name string) {
	GinkgoHelper()
	p := &mcfgv1.MachineConfigPool{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: mcfgv1.MachineConfigPoolSpec{
			MachineConfigSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"machineconfiguration.openshift.io/role": name}},
			NodeSelector:          &metav1.LabelSelector{MatchLabels: map[string]string{"node-role.kubernetes.io/" + name: ""}},
		},
	}
	if err := kube.Create(ctx, p); !apierrors.IsAlreadyExists(err) {
		Expect(err).NotTo(HaveOccurred())
	}
}

// goVerdictOf runs one rule, as the webhook does, against the API server's objects.
func goVerdictOf(mosc *mcfgv1.MachineOSConfig, id validators.RuleID) validators.Findings {
	GinkgoHelper()
	for _, rule := range validators.Stage1Rules() {
		if rule.ID == id {
			return validators.Check(ctx, rule.Validate, mosc, app.RuleEnv(config.Defaults(), &lookups.Cluster{Cached: kube, Direct: kube}, nil))
		}
	}
	Fail("no rule " + string(id))
	return validators.Findings{}
}

// goOutcome is what the Go rules that config/vap states say, each with its default action: "deny:<rule>" for the
// first deny rule with errors, else "warn:<rule>" for the first warn rule with errors, else "admit". (Warnings that
// are not errors, such as pushspec-syntax's note on the tag, are a known divergence.)
func goOutcome(mosc *mcfgv1.MachineOSConfig) string {
	GinkgoHelper()
	var denied, warned []string
	for _, rule := range validators.Stage1Rules() {
		if !slices.Contains(stated, rule.ID) {
			continue
		}
		if len(goVerdictOf(mosc, rule.ID).Errs) == 0 {
			continue
		}
		switch rule.DefaultAction {
		case validators.ActionDeny:
			denied = append(denied, "deny:"+string(rule.ID))
		case validators.ActionWarn:
			warned = append(warned, "warn:"+string(rule.ID))
		}
	}
	if len(denied) > 0 {
		return denied[0]
	}
	if len(warned) > 0 {
		return warned[0]
	}
	return admit
}

// serverOutcome is what the API server says to a dry-run create: "deny:<rule>" when a policy refuses it (with the
// rule ID its message names), "warn:<rule>" when a policy warns, "admit", or any other refusal's message.
func serverOutcome(mosc *mcfgv1.MachineOSConfig) string {
	GinkgoHelper()
	var err error
	ws := warnings.During(func() { err = write(mosc) })
	return outcomeOf(err, ws)
}

func serverUpdateOutcome(obj *unstructured.Unstructured) string {
	GinkgoHelper()
	var err error
	ws := warnings.During(func() { err = kube.Update(ctx, obj.DeepCopy(), client.DryRunAll) })
	out := outcomeOf(err, ws)
	if out == admit {
		return noWarning
	}
	return out
}

func outcomeOf(err error, ws []string) string {
	GinkgoHelper()
	if err != nil {
		if !strings.Contains(err.Error(), "ValidatingAdmissionPolicy 'ocl-guard-syntax'") {
			return err.Error()
		}
		ids := ruleIDInText.FindAllStringSubmatch(err.Error(), -1)
		Expect(ids).To(HaveLen(1), "one rule ID in %q", err.Error())
		return "deny:" + ids[0][1]
	}
	for _, w := range fromPolicy(ws) {
		Expect(w).To(ContainSubstring("ValidatingAdmissionPolicy 'ocl-guard-syntax-warn'"))
		ids := ruleIDInText.FindAllStringSubmatch(w, -1)
		Expect(ids).To(HaveLen(1), "one rule ID in %q", w)
		return "warn:" + ids[0][1]
	}
	return admit
}

func write(mosc *mcfgv1.MachineOSConfig) error {
	return kube.Create(ctx, mosc.DeepCopy(), client.DryRunAll)
}

// writeAs dry-run creates as another user.
func writeAs(user string, mosc *mcfgv1.MachineOSConfig) error {
	GinkgoHelper()
	c := impersonating(user)
	return c.Create(ctx, mosc.DeepCopy(), client.DryRunAll)
}

// createAs creates for real as another user, and returns the stored object.
func createAs(user string, mosc *mcfgv1.MachineOSConfig) *unstructured.Unstructured {
	GinkgoHelper()
	Expect(impersonating(user).Create(ctx, mosc.DeepCopy())).To(Succeed())
	DeferCleanup(func() { _ = kube.Delete(ctx, mosc.DeepCopy()) })
	stored := &unstructured.Unstructured{}
	stored.SetGroupVersionKind(mcfgv1.GroupVersion.WithKind("MachineOSConfig"))
	Expect(kube.Get(ctx, client.ObjectKey{Name: mosc.Name}, stored)).To(Succeed())
	return stored
}

func impersonating(user string) client.Client {
	GinkgoHelper()
	as := rest.CopyConfig(cfg)
	as.Impersonate = rest.ImpersonationConfig{UserName: user}
	scheme, err := app.Scheme()
	Expect(err).NotTo(HaveOccurred())
	c, err := client.New(as, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	return c
}

// webhookOutcome is the webhook's own answer (its adapter and every rule, with the default actions; no registry
// is probed): "admit" plus the rule IDs of its warnings, or "deny:<rule>".
func webhookOutcome(op admissionv1.Operation, obj, old *unstructured.Unstructured) string {
	GinkgoHelper()
	scheme, err := app.Scheme()
	Expect(err).NotTo(HaveOccurred())
	v := webhook.NewValidator(scheme, app.RuleEnv(config.Defaults(), &lookups.Cluster{Cached: kube, Direct: kube}, nil), nil)
	req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		Kind:      metav1.GroupVersionKind{Group: mcfgv1.GroupName, Version: "v1", Kind: "MachineOSConfig"},
		Name:      obj.GetName(),
		Operation: op,
		Object:    runtime.RawExtension{Raw: marshal(obj)},
	}}
	if old != nil {
		req.OldObject = runtime.RawExtension{Raw: marshal(old)}
	}
	resp := v.Handle(ctx, req)
	if !resp.Allowed {
		ids := ruleIDInText.FindAllStringSubmatch(resp.Result.Message, -1)
		Expect(ids).NotTo(BeEmpty(), resp.Result.Message)
		return "deny:" + ids[0][1]
	}
	var seen []string // the warnings of the rules config/vap states
	for _, w := range resp.Warnings {
		id := ruleIDInText.FindStringSubmatch(w)
		if id != nil && slices.Contains(stated, validators.RuleID(id[1])) && !slices.Contains(seen, "warning:"+id[1]) {
			seen = append(seen, "warning:"+id[1])
		}
	}
	if len(seen) == 0 {
		return admit
	}
	return "admit, " + strings.Join(seen, ", ")
}

func marshal(obj *unstructured.Unstructured) []byte {
	GinkgoHelper()
	data, err := json.Marshal(obj.Object)
	Expect(err).NotTo(HaveOccurred())
	return data
}

func typed[T any](obj *unstructured.Unstructured) *T {
	GinkgoHelper()
	var out T
	Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &out)).To(Succeed())
	return &out
}

// pointAtNothing sends the webhook's calls to a loopback port nobody listens on: the webhook is down.
func pointAtNothing(obj *unstructured.Unstructured) {
	GinkgoHelper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	addr := l.Addr().String()
	Expect(l.Close()).To(Succeed())
	webhooks, _, err := unstructured.NestedSlice(obj.Object, "webhooks")
	Expect(err).NotTo(HaveOccurred())
	for i := range webhooks {
		w := webhooks[i].(map[string]any)
		path := w["clientConfig"].(map[string]any)["service"].(map[string]any)["path"].(string)
		w["clientConfig"] = map[string]any{"url": "https://" + addr + path}
	}
	Expect(unstructured.SetNestedSlice(obj.Object, webhooks, "webhooks")).To(Succeed())
}
