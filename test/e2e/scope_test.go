package e2e

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/validators"
)

var _ = Describe("Least privilege and scope", func() {
	It("caches Secrets of openshift-machine-config-operator only", func() {
		Expect(kube.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "tenant-a"}})).To(Succeed())
		Expect(kube.Create(ctx, dockerConfigSecret("app-secret", "quay.io").DeepCopy())).To(Succeed())
		tenant := dockerConfigSecret("app-secret", "quay.io")
		tenant.Namespace = "tenant-a"
		Expect(kube.Create(ctx, tenant)).To(Succeed())

		scheme, err := app.Scheme()
		Expect(err).NotTo(HaveOccurred())
		opts := app.CacheOptions()
		opts.Scheme = scheme
		c, err := cache.New(bed.Config, opts)
		Expect(err).NotTo(HaveOccurred())
		cacheCtx, stop := contextWithCancel()
		defer stop()
		go func() { _ = c.Start(cacheCtx) }()

		var inMCO corev1.Secret
		Eventually(func() error {
			return c.Get(ctx, client.ObjectKey{Namespace: validators.MCONamespace, Name: "app-secret"}, &inMCO)
		}).WithTimeout(10 * time.Second).Should(Succeed())

		err = c.Get(ctx, client.ObjectKeyFromObject(tenant), &corev1.Secret{})
		Expect(err).To(MatchError(ContainSubstring("unknown namespace for the cache")))

		var all corev1.SecretList
		Expect(c.List(ctx, &all)).To(Succeed())
		Expect(all.Items).NotTo(BeEmpty())
		for _, s := range all.Items {
			Expect(s.Namespace).To(Equal(validators.MCONamespace))
			Expect(s.ManagedFields).To(BeEmpty())
		}
	})

	It("is never called for the MCO's own requests", func() {
		const mcoUser = "system:serviceaccount:openshift-machine-config-operator:machine-os-builder"
		role := &rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: "test-mco-writes-machineosconfigs"},
			Rules:      []rbacv1.PolicyRule{{APIGroups: []string{mcfgv1.GroupName}, Resources: []string{"machineosconfigs"}, Verbs: []string{"create", "delete"}}},
		}
		Expect(kube.Create(ctx, role)).To(Succeed())
		Expect(kube.Create(ctx, &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: role.Name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
			Subjects:   []rbacv1.Subject{{Kind: "User", Name: mcoUser}},
		})).To(Succeed())

		cfg := rest.CopyConfig(bed.Config)
		cfg.Impersonate = rest.ImpersonationConfig{UserName: mcoUser}
		asMCO, err := client.New(cfg, client.Options{Scheme: kube.Scheme()})
		Expect(err).NotTo(HaveOccurred())

		p := createLayeredPool("quay.io")
		broken := p.machineOSConfig("quay.io/mco/renderedImg:latest")
		Expect(kube.Create(ctx, broken.DeepCopy(), client.DryRunAll)).NotTo(Succeed(), "a human gets the denial")
		Expect(asMCO.Create(ctx, broken, client.DryRunAll)).To(Succeed(), "the MCO's service account is not sent to the webhook")
	})
})
