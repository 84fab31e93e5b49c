package e2e

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/lookups"
	"github.com/ocl-guard/ocl-guard/mco"
)

var _ = Describe("Least privilege and scope", func() {
	It("caches Secrets of openshift-machine-config-operator only, and the cluster pull secret alone", func() {
		Expect(kube.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "tenant-a"}})).To(Succeed())
		ensureNamespace(mco.ClusterPullSecretNamespace)
		neighbour := dockerConfigSecret("neighbour-of-the-pull-secret", "quay.io")
		neighbour.Namespace = mco.ClusterPullSecretNamespace
		Expect(kube.Create(ctx, neighbour)).To(Succeed())
		pullSecret := dockerConfigSecret(mco.ClusterPullSecretName, "quay.io")
		pullSecret.Namespace = mco.ClusterPullSecretNamespace
		if err := kube.Create(ctx, pullSecret); err != nil {
			Expect(apierrors.IsAlreadyExists(err)).To(BeTrue(), "%v", err)
		}
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
			return c.Get(ctx, client.ObjectKey{Namespace: mco.Namespace, Name: "app-secret"}, &inMCO)
		}).WithTimeout(10 * time.Second).Should(Succeed())

		err = c.Get(ctx, client.ObjectKeyFromObject(tenant), &corev1.Secret{})
		Expect(err).To(MatchError(ContainSubstring("unknown namespace for the cache")))
		Expect(c.Get(ctx, lookups.ClusterPullSecretKey, &corev1.Secret{})).To(Succeed())
		err = c.Get(ctx, client.ObjectKeyFromObject(neighbour), &corev1.Secret{})
		Expect(apierrors.IsNotFound(err)).To(BeTrue(), "only the pull secret of openshift-config is cached: %v", err)

		var all corev1.SecretList
		Expect(c.List(ctx, &all)).To(Succeed())
		Expect(all.Items).NotTo(BeEmpty())
		for _, s := range all.Items {
			if s.Namespace != mco.Namespace {
				Expect(client.ObjectKeyFromObject(&s)).To(Equal(lookups.ClusterPullSecretKey))
			}
			Expect(s.ManagedFields).To(BeEmpty())
		}
	})

	DescribeTable("is never called for the MCO's or ocl-guard's own requests", func(user string) {
		role := &rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: uniqueName("test-writes-machineosconfigs")},
			Rules:      []rbacv1.PolicyRule{{APIGroups: []string{mcfgv1.GroupName}, Resources: []string{"machineosconfigs"}, Verbs: []string{"create", "delete"}}},
		}
		Expect(kube.Create(ctx, role)).To(Succeed())
		Expect(kube.Create(ctx, &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: role.Name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
			Subjects:   []rbacv1.Subject{{Kind: "User", Name: user}},
		})).To(Succeed())

		cfg := rest.CopyConfig(bed.Config)
		cfg.Impersonate = rest.ImpersonationConfig{UserName: user}
		asUser, err := client.New(cfg, client.Options{Scheme: kube.Scheme()})
		Expect(err).NotTo(HaveOccurred())

		p := createLayeredPool("quay.io")
		broken := p.machineOSConfig("quay.io/mco/renderedImg:latest")
		Expect(kube.Create(ctx, broken.DeepCopy(), client.DryRunAll)).NotTo(Succeed(), "a human gets the denial")
		Expect(asUser.Create(ctx, broken, client.DryRunAll)).To(Succeed(), "%s is not sent to the webhook", user)
	},
		Entry("the MCO's build controller", "system:serviceaccount:openshift-machine-config-operator:machine-os-builder"),
		// The checker writes thousands of annotation patches per audit run; each would be an evaluation with API reads.
		Entry("ocl-guard's checker", "system:serviceaccount:ocl-guard:ocl-guard"),
	)
})
