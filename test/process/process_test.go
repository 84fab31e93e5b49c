package process

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/validators"
	"github.com/ocl-guard/ocl-guard/webhook"
)

func machineOSConfig(name, pushSecret string, pullSecret *string) *mcfgv1.MachineOSConfig {
	mosc := &mcfgv1.MachineOSConfig{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: mcfgv1.MachineOSConfigSpec{
			MachineConfigPool:       mcfgv1.MachineConfigPoolReference{Name: name},
			ImageBuilder:            mcfgv1.MachineOSImageBuilder{ImageBuilderType: "Job"},
			RenderedImagePushSecret: mcfgv1.ImageSecretObjectReference{Name: pushSecret},
			RenderedImagePushSpec:   "quay.example.com/acme/os:latest",
			Containerfile: []mcfgv1.MachineOSContainerfile{{
				ContainerfileArch: mcfgv1.NoArch, Content: "FROM configs AS final\nRUN rpm-ostree install tree\n",
			}},
		},
	}
	if pullSecret != nil {
		mosc.Spec.BaseImagePullSecret = &mcfgv1.ImageSecretObjectReference{Name: *pullSecret}
	}
	return mosc
}

func pool(name string) *mcfgv1.MachineConfigPool {
	return &mcfgv1.MachineConfigPool{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: mcfgv1.MachineConfigPoolSpec{
			MachineConfigSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"machineconfiguration.openshift.io/role": name}},
			NodeSelector:          &metav1.LabelSelector{MatchLabels: map[string]string{"node-role.kubernetes.io/" + name: ""}},
		},
	}
}

func dockerSecret(namespace, name, config string) *corev1.Secret {
	return &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: []byte(config)},
	}
}

var _ = Describe("The webhook binary started with --kubeconfig", func() {
	// client-go's default client-side limit (5 QPS, burst 10) once applied on this path only: a burst of denials,
	// each confirming its misses with GETs, queued past the 10 s timeout, and failurePolicy Ignore admitted them.
	It("denies every broken config of a burst of concurrent admissions", func() {
		const n = 80
		results := make(chan error, n)
		for i := range n {
			go func() {
				pull := fmt.Sprintf("missing-pull-%d", i)
				results <- kube.Create(ctx, machineOSConfig(fmt.Sprintf("burst-%d", i), fmt.Sprintf("missing-push-%d", i), &pull), client.DryRunAll)
			}()
		}
		denied := 0
		for range n {
			err := <-results
			if apierrors.IsInvalid(err) && strings.Contains(err.Error(), "["+string(validators.RulePoolExists)+"]") {
				denied++
			} else {
				GinkgoWriter.Printf("not denied: %v\n", err)
			}
		}
		Expect(denied).To(Equal(n), "every broken config must be denied, none admitted by a timeout")
	})

	// A directly posted AdmissionReview escapes the CRD's 4096-character limit; multi-megabyte Containerfiles once
	// cost ~150 MB each in the parser, and a handful in parallel exceeded the container's memory limit.
	It("keeps its resident memory bounded under parallel oversized requests", func() {
		post := directPoster()
		small := admissionReview(machineOSConfig("small", "push", nil))
		Expect(post(small)).To(ContainSubstring(`"allowed":false`)) // warm up: caches, TLS, first decode
		before := webhookProc.peakRSS()

		huge := machineOSConfig("huge", "push", nil)
		huge.Spec.Containerfile[0].Content = "FROM configs AS final\n" + strings.Repeat("RUN echo aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", 100_000)
		body := admissionReview(huge)
		Expect(len(body)).To(BeNumerically(">", 6<<20))
		Expect(len(body)).To(BeNumerically("<", webhook.MaxRequestBytes))
		const parallel, rounds = 16, 3
		for range rounds {
			var wg sync.WaitGroup
			answers := make([]string, parallel)
			for i := range parallel {
				wg.Go(func() { answers[i] = post(body) })
			}
			wg.Wait()
			for _, a := range answers {
				Expect(a).To(ContainSubstring("[" + string(validators.RuleCRDBounds) + "]"))
				Expect(a).To(ContainSubstring("spec.containerFile[0].content"))
			}
		}
		after := webhookProc.peakRSS()
		AddReportEntry("webhook peak RSS", fmt.Sprintf("%d MiB before, %d MiB after %d rounds of %d parallel %d MiB requests",
			before>>20, after>>20, rounds, parallel, len(body)>>20))
		Expect(after-before).To(BeNumerically("<", 200<<20), "peak RSS grew from %d MiB to %d MiB", before>>20, after>>20)
	})
})

// directPoster posts AdmissionReviews straight to the webhook, as someone who can reach its Service could.
func directPoster() func(body []byte) string {
	host, port, _ := bed.WebhookServing()
	url := fmt.Sprintf("https://%s:%d%s", host, port, webhook.Path)
	c := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	return func(body []byte) string {
		GinkgoHelper()
		resp, err := c.Post(url, "application/json", bytes.NewReader(body))
		Expect(err).NotTo(HaveOccurred())
		defer resp.Body.Close()
		out, err := io.ReadAll(resp.Body)
		Expect(err).NotTo(HaveOccurred())
		return string(out)
	}
}

func admissionReview(mosc *mcfgv1.MachineOSConfig) []byte {
	GinkgoHelper()
	mosc.APIVersion, mosc.Kind = mcfgv1.GroupVersion.String(), "MachineOSConfig"
	raw, err := json.Marshal(mosc)
	Expect(err).NotTo(HaveOccurred())
	review := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID:       types.UID("direct-" + mosc.Name),
			Kind:      metav1.GroupVersionKind{Group: mcfgv1.GroupName, Version: "v1", Kind: "MachineOSConfig"},
			Resource:  metav1.GroupVersionResource{Group: mcfgv1.GroupName, Version: "v1", Resource: "machineosconfigs"},
			Name:      mosc.Name,
			Operation: admissionv1.Create,
			Object:    runtime.RawExtension{Raw: raw},
		},
	}
	out, err := json.Marshal(review)
	Expect(err).NotTo(HaveOccurred())
	return out
}

// Credential markers, one per credential-bearing place of a docker config and of the cluster pull secret.
const (
	markUserinfo = "MARKuserinfo7Qx"
	markAuth     = "MARKauthpw3Kz"
	markPassword = "MARKpassword9Lw"
	markIdentity = "MARKidtoken2Vb"
	markPull     = "MARKpullpw5Hn"
)

var _ = Describe("Every output of the binaries", func() {
	It("never shows a credential: answers, warnings, annotations, Events, logs at level 10, metrics, CLI text and JSON", func() {
		leakyConfig := fmt.Sprintf(`{"auths":{"https://robot:%s@quay.example.com":{"auth":%q,"username":"robot","password":%q,"identitytoken":%q}}}`,
			markUserinfo, base64.StdEncoding.EncodeToString([]byte("robot:"+markAuth)), markPassword, markIdentity)
		goodConfig := fmt.Sprintf(`{"auths":{"quay.example.com":{"auth":%q}}}`, base64.StdEncoding.EncodeToString([]byte("robot:"+markAuth)))
		pullConfig := fmt.Sprintf(`{"auths":{"registry.redhat.io":{"auth":%q,"password":%q}}}`,
			base64.StdEncoding.EncodeToString([]byte("u:"+markPull)), markPull)

		Expect(kube.Create(ctx, dockerSecret(mco.ClusterPullSecretNamespace, mco.ClusterPullSecretName, pullConfig))).To(Succeed())
		Expect(kube.Create(ctx, pool("leaky"))).To(Succeed())
		push := dockerSecret(mco.Namespace, "leaky-push", goodConfig)
		Expect(kube.Create(ctx, push)).To(Succeed())
		mosc := machineOSConfig("leaky", "leaky-push", nil) // no base image pull secret: the cluster pull secret is read
		Expect(kube.Create(ctx, mosc)).To(Succeed())

		// Now the push secret goes bad in every way that quotes its keys, with a marker in every field.
		push.Data[corev1.DockerConfigJsonKey] = []byte(leakyConfig)
		Expect(kube.Update(ctx, push)).To(Succeed())

		var outputs []string
		var err error
		// The webhook's cache learns of the edited Secret a moment later; the checker annotates the config
		// meanwhile, so each attempt starts from the config as it is now (a stale resourceVersion only conflicts).
		Eventually(func() bool {
			changed := &mcfgv1.MachineOSConfig{}
			if err = kube.Get(ctx, client.ObjectKeyFromObject(mosc), changed); err != nil {
				return false
			}
			changed.Spec.RenderedImagePushSpec = "quay.example.com/acme/os2:latest"
			err = kube.Update(ctx, changed, client.DryRunAll)
			return apierrors.IsInvalid(err)
		}).WithTimeout(30*time.Second).Should(BeTrue(), "the bad secret is denied")
		outputs = append(outputs, err.Error())
		outputs = append(outputs, direct(mosc)...)
		outputs = append(outputs, warnings.All()...)

		var annotated mcfgv1.MachineOSConfig
		Eventually(func() string {
			Expect(kube.Get(ctx, client.ObjectKey{Name: "leaky"}, &annotated)).To(Succeed())
			return annotated.Annotations["ocl-guard.io/message"]
		}).WithTimeout(60 * time.Second).Should(ContainSubstring("quay.example.com"))
		for k, v := range annotated.Annotations {
			outputs = append(outputs, k+"="+v)
		}
		var events corev1.EventList
		Eventually(func() int {
			Expect(kube.List(ctx, &events)).To(Succeed())
			return len(events.Items)
		}).WithTimeout(30 * time.Second).Should(BeNumerically(">", 0))
		for _, e := range events.Items {
			outputs = append(outputs, e.Reason+": "+e.Message)
		}

		token := metricsToken()
		outputs = append(outputs, scrape(webhookProc.metrics, token), scrape(checkerProc.metrics, token))
		outputs = append(outputs, runCLI(push, mosc)...)
		outputs = append(outputs, webhookProc.output.String(), checkerProc.output.String())

		all := strings.Join(outputs, "\n")
		all += "\n" + undumpHex(all)
		Expect(all).To(ContainSubstring("quay.example.com"), "the outputs name the registry host")
		Expect(webhookProc.output.String()).To(ContainSubstring(`"received request"`), "the logs are at debug level (V(5))")
		for _, mark := range []string{markUserinfo, markAuth, markPassword, markIdentity, markPull} {
			for _, form := range encodings(mark) {
				Expect(all).NotTo(ContainSubstring(form), "marker %s appears (as %q)", mark, form)
			}
		}
	})
})

// direct posts the config as an AdmissionReview that never went through the API server.
func direct(mosc *mcfgv1.MachineOSConfig) []string {
	changed := mosc.DeepCopy()
	changed.Spec.RenderedImagePushSpec = "quay.example.com/acme/os3:latest"
	return []string{directPoster()(admissionReview(changed))}
}

// encodings are the forms in which a marker could show: as is, hex (protobuf bodies in logs), and base64 in each
// of the three alignments it can have inside a longer base64 text (docker config auth fields, Secret data).
func encodings(mark string) []string {
	forms := []string{mark, hex.EncodeToString([]byte(mark)), strings.ToUpper(hex.EncodeToString([]byte(mark)))}
	for pad := range 3 {
		enc := base64.StdEncoding.EncodeToString(append(bytes.Repeat([]byte{'x'}, pad), mark...))
		start, end := 0, len(enc)
		if pad > 0 {
			start = 4 // the first group mixes in the padding bytes
		}
		if (pad+len(mark))%3 != 0 {
			end -= 4 // the last group is partial
		}
		forms = append(forms, enc[start:end])
	}
	return forms
}

// hexDumpLine is a line of hex.Dump, which client-go uses to log protobuf bodies from V(8) on (k8s.io/client-go
// rest/request.go logBody); zap's JSON encoder keeps its newlines as \n escapes.
var hexDumpLine = regexp.MustCompile(`[0-9a-f]{8}  ((?:[0-9a-f]{2} {1,2}){1,16})`)

// undumpHex returns the bytes of every hex dump in text, so that a marker split over dump lines is found too.
func undumpHex(text string) string {
	var out []byte
	for _, m := range hexDumpLine.FindAllStringSubmatch(strings.ReplaceAll(text, `\n`, "\n"), -1) {
		b, err := hex.DecodeString(strings.ReplaceAll(m[1], " ", ""))
		if err == nil {
			out = append(out, b...)
		}
	}
	return string(out)
}

// metricsToken is a token of a service account allowed to get /metrics through the shipped ClusterRole.
func metricsToken() string {
	GinkgoHelper()
	Expect(kube.Create(ctx, &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "ocl-guard-metrics-reader"},
		Rules:      []rbacv1.PolicyRule{{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}},
	})).To(Succeed())
	Expect(kube.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "scraper", Namespace: "ocl-guard"}})).To(Succeed())
	Expect(kube.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "scraper"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "ocl-guard-metrics-reader"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "scraper", Namespace: "ocl-guard"}},
	})).To(Succeed())
	clientset, err := kubernetes.NewForConfig(bed.Config)
	Expect(err).NotTo(HaveOccurred())
	tr, err := clientset.CoreV1().ServiceAccounts("ocl-guard").CreateToken(ctx, "scraper", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	Expect(err).NotTo(HaveOccurred())
	return tr.Status.Token
}

func scrape(addr, token string) string {
	GinkgoHelper()
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	var body string
	Eventually(func() (int, error) {
		req, _ := http.NewRequest(http.MethodGet, "https://"+addr+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return resp.StatusCode, nil
	}).WithTimeout(30 * time.Second).Should(Equal(http.StatusOK))
	Expect(body).To(ContainSubstring("ocl_guard_"))
	return body
}

// runCLI runs `ocl-guard check` offline on manifests holding the leaky secret (text and JSON) and live.
func runCLI(push *corev1.Secret, mosc *mcfgv1.MachineOSConfig) []string {
	GinkgoHelper()
	dir := GinkgoT().TempDir()
	m := mosc.DeepCopy()
	m.APIVersion, m.Kind, m.ResourceVersion, m.UID, m.ManagedFields = mcfgv1.GroupVersion.String(), "MachineOSConfig", "", "", nil
	s := push.DeepCopy()
	s.ResourceVersion, s.UID, s.ManagedFields = "", "", nil
	for name, obj := range map[string]any{"mosc.yaml": m, "secret.yaml": s} {
		data, err := yaml.Marshal(obj)
		Expect(err).NotTo(HaveOccurred())
		Expect(os.WriteFile(filepath.Join(dir, name), data, 0o600)).To(Succeed())
	}
	var outs []string
	for _, args := range [][]string{
		{"check", "-f", dir},
		{"check", "-f", dir, "-o", "json"},
		{"check", "--live", "--kubeconfig", kubeconfig},
		{"check", "--live", "--kubeconfig", kubeconfig, "-o", "json"},
	} {
		out, err := exec.Command(binary, args...).CombinedOutput()
		exit, _ := err.(*exec.ExitError)
		Expect(err == nil || exit != nil).To(BeTrue(), "%v: %v", args, err)
		Expect(string(out)).To(ContainSubstring("leaky"), "%v printed: %s", args, out)
		outs = append(outs, strconv.Quote(strings.Join(args, " "))+"\n"+string(out))
	}
	return outs
}

var _ = Describe("The command line", func() {
	DescribeTable("answers -h with its flags and exit code 0", func(command string) {
		out, err := exec.Command(binary, command, "-h").CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "%s -h: %s", command, out)
		Expect(string(out)).To(ContainSubstring("-kubeconfig"))
	},
		Entry("webhook", "webhook"), Entry("checker", "checker"), Entry("check", "check"),
	)
})
