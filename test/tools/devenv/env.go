package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/checker"
	"github.com/ocl-guard/ocl-guard/config"
	"github.com/ocl-guard/ocl-guard/registry"
	"github.com/ocl-guard/ocl-guard/status"
	"github.com/ocl-guard/ocl-guard/test/registry/registrytest"
	"github.com/ocl-guard/ocl-guard/test/testbed"
	"github.com/ocl-guard/ocl-guard/validators"
)

// diagnosisWait bounds the wait for the checker's first diagnoses of the seeded objects.
const diagnosisWait = time.Minute

type devEnv struct {
	// oclGuard is the ocl-guard binary, for `ocl-guard status`.
	oclGuard    string
	registry    *registrytest.Registry
	bed         *testbed.Bed
	kube        client.Client
	kubeconfig  string
	kubectl     string
	stopChecker context.CancelFunc
	checkerDone chan error
	// metrics holds the prober's and the checker's metrics; nothing serves them.
	metrics *prometheus.Registry
}

// start brings everything up and seeds the samples; on error it stops what it started.
func start(ctx context.Context, root string, opts options) (_ *devEnv, err error) {
	e := &devEnv{kubeconfig: opts.kubeconfigOut, oclGuard: filepath.Join(root, "bin", "ocl-guard")}
	defer func() {
		if err != nil {
			e.stop()
		}
	}()
	// `make build`'s binary, built while the control plane starts.
	built := make(chan error, 1)
	go func() {
		build := exec.CommandContext(ctx, "go", "build", "-o", e.oclGuard, "./cmd/ocl-guard")
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			built <- fmt.Errorf("building %s: %w\n%s", e.oclGuard, err, out)
		}
		close(built)
	}()
	defer func() {
		if buildErr := <-built; err == nil {
			err = buildErr
		}
	}()
	settings, err := loadSettings(opts.settingsPath)
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(opts.registryPort))
	if e.registry, err = registrytest.Start(registrytest.Config{Mode: registrytest.Token, Addr: addr}); err != nil {
		return nil, fmt.Errorf("starting the local registry on %s (choose another with -registry-port): %w", addr, err)
	}
	if err := os.MkdirAll(filepath.Dir(e.kubeconfig), 0o700); err != nil {
		return nil, err
	}
	caFile := filepath.Join(filepath.Dir(e.kubeconfig), "registry-ca.pem")
	if err := os.WriteFile(caFile, e.registry.CAPEM, 0o600); err != nil {
		return nil, err
	}
	// The registry is on loopback, which the probe refuses unless told; it trusts the registry's own CA.
	settings.Registry.AllowLoopback = true
	settings.Registry.CABundles = append(settings.Registry.CABundles, caFile)
	e.metrics = prometheus.NewRegistry()
	prober, err := app.NewProber(settings.Registry, e.metrics)
	if err != nil {
		return nil, err
	}
	probe := loopbackOnly{prober}

	// The webhook's serving certificate is self-managed, as `ocl-guard webhook --cert-mode=self` runs it on a cluster
	// with neither the service CA nor cert-manager: its CA in a Secret, the caBundle published by the webhook itself.
	if e.bed, err = testbed.Start(testbed.Options{Settings: settings, Prober: probe, SelfManagedCerts: testbed.SelfManagedCerts()}); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	e.kube = e.bed.Client
	if err := e.startChecker(settings, probe); err != nil {
		return nil, err
	}
	// The settings the checker runs with, where `oc apply -k config/default` puts them, for `ocl-guard status`.
	if err := testbed.InstallSettings(ctx, e.kube, status.InstallNamespace, settings); err != nil {
		return nil, fmt.Errorf("installing the settings: %w", err)
	}
	if err := e.writeKubeconfig(); err != nil {
		return nil, err
	}
	e.kubectl = kubectlPath(e.bed.Env.BinaryAssetsDirectory)
	if err := e.applyPrerequisites(ctx, root); err != nil {
		return nil, err
	}
	s := &seeder{kube: e.kube, registry: e.registry, unreachable: unreachableHost(opts.registryPort), now: time.Now()}
	if err := s.seed(ctx); err != nil {
		return nil, fmt.Errorf("seeding the samples: %w", err)
	}
	return e, e.waitForDiagnoses(ctx)
}

func loadSettings(path string) (config.Settings, error) {
	if path == "" {
		return config.Defaults(), nil
	}
	return config.Load(path)
}

// unreachableHost is the registry's port on a loopback address nothing listens on: connection refused, at once.
func unreachableHost(port int) string { return net.JoinHostPort("127.0.0.2", strconv.Itoa(port)) }

// startChecker runs the checker so that the seeded objects get their diagnoses (no kubelet: build logs cannot be
// read, the termination messages are enough).
func (e *devEnv) startChecker(settings config.Settings, probe validators.Prober) error {
	mgr, err := app.NewCheckerManager(e.bed.Config, app.CheckerOptions{Settings: settings, MetricsAddr: "0", ProbeAddr: "0", Prober: probe, Registry: e.metrics})
	if err != nil {
		return err
	}
	var ctx context.Context
	ctx, e.stopChecker = context.WithCancel(context.Background())
	e.checkerDone = make(chan error, 1)
	go func() { e.checkerDone <- mgr.Start(ctx) }()
	return nil
}

func (e *devEnv) writeKubeconfig() error {
	kubeconfig, err := e.bed.Kubeconfig()
	if err != nil {
		return err
	}
	return os.WriteFile(e.kubeconfig, kubeconfig, 0o600)
}

// applyPrerequisites applies config/samples/prerequisites.yaml as `kubectl apply --server-side -f` would, through
// the API server (so the webhook and the checker see it as from kubectl), without needing a kubectl binary: the
// tests of `make run` run where only kube-apiserver and etcd were built.
func (e *devEnv) applyPrerequisites(ctx context.Context, root string) error {
	prereqs := filepath.Join(root, "config", "samples", "prerequisites.yaml")
	f, err := os.Open(prereqs)
	if err != nil {
		return err
	}
	defer f.Close()
	decoder := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
	for {
		obj := &unstructured.Unstructured{}
		if err := decoder.Decode(&obj.Object); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("reading %s: %w", prereqs, err)
		}
		if len(obj.Object) == 0 {
			continue // an empty document
		}
		if err := e.kube.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj), client.FieldOwner("devenv"), client.ForceOwnership); err != nil {
			return fmt.Errorf("applying %s %s from %s: %w", obj.GetKind(), obj.GetName(), prereqs, err)
		}
	}
}

// kubectlPath is the kubectl that the printed commands use: the one `make run` builds beside the control plane,
// else whichever is on PATH (oc works as well).
func kubectlPath(assets string) string {
	built := filepath.Join(assets, "kubectl")
	if _, err := os.Stat(built); err == nil {
		return built
	}
	return "kubectl"
}

// waitForDiagnoses returns once the checker has written its diagnosis onto every seeded object.
func (e *devEnv) waitForDiagnoses(ctx context.Context) error {
	objects := seededDiagnosed()
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, diagnosisWait, true, func(ctx context.Context) (bool, error) {
		for _, obj := range objects {
			if err := e.kube.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
				return false, client.IgnoreNotFound(err)
			}
			if obj.GetAnnotations()[checker.AnnotationDiagnosis] == "" {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("the checker wrote no diagnosis onto the seeded objects within %s: %w", diagnosisWait, err)
	}
	return err
}

// seededDiagnosed are the seeded objects the checker diagnoses: the failed build, the pools, the rotated config.
func seededDiagnosed() []client.Object {
	return []client.Object{
		&mcfgv1.MachineOSBuild{ObjectMeta: nameOnly(failedPool + buildHash)},
		&mcfgv1.MachineConfigPool{ObjectMeta: nameOnly(failedPool)},
		&mcfgv1.MachineConfigPool{ObjectMeta: nameOnly(stalledPool)},
		&mcfgv1.MachineOSConfig{ObjectMeta: nameOnly(failedPool)},
	}
}

// stop stops the checker, then the control plane and the webhook, then the registry.
func (e *devEnv) stop() {
	if e.stopChecker != nil {
		e.stopChecker()
		if err := <-e.checkerDone; err != nil {
			fmt.Fprintf(os.Stderr, "devenv: checker: %v\n", err)
		}
	}
	if e.bed != nil {
		if err := e.bed.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "devenv: stopping the control plane: %v\n", err)
		}
	}
	if e.registry != nil {
		if err := e.registry.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "devenv: stopping the registry: %v\n", err)
		}
	}
}

// loopbackOnly probes only registries on loopback addresses, i.e. the local one: the samples that push to quay.io
// are not probed, so that a local try-out never dials the internet.
type loopbackOnly struct{ prober validators.Prober }

const loopbackOnlyDetail = "not probed: make run probes only registries on 127.0.0.0/8"

func (l loopbackOnly) ProbeWithSecret(ctx context.Context, repository string, secret *corev1.Secret) registry.Result {
	if onLoopback(repository) {
		return l.prober.ProbeWithSecret(ctx, repository, secret)
	}
	return registry.Result{Reachable: registry.StatusSkipped, ReachableDetail: loopbackOnlyDetail, Push: registry.StatusSkipped, PushDetail: loopbackOnlyDetail}
}

func (l loopbackOnly) ProbePullWithSecret(ctx context.Context, image string, secret *corev1.Secret) registry.Result {
	if onLoopback(image) {
		return l.prober.ProbePullWithSecret(ctx, image, secret)
	}
	return registry.Result{Reachable: registry.StatusSkipped, ReachableDetail: loopbackOnlyDetail, Pull: registry.StatusSkipped, PullDetail: loopbackOnlyDetail}
}

func (l loopbackOnly) ProbeDeleteWithSecret(ctx context.Context, repository string, secret *corev1.Secret) registry.Result {
	if onLoopback(repository) {
		return l.prober.ProbeDeleteWithSecret(ctx, repository, secret)
	}
	return registry.Result{Reachable: registry.StatusSkipped, Delete: registry.StatusSkipped, DeleteDetail: loopbackOnlyDetail}
}

func (l loopbackOnly) ProbeRepositoryWithSecret(ctx context.Context, repository string, secret *corev1.Secret) registry.Result {
	if onLoopback(repository) {
		return l.prober.ProbeRepositoryWithSecret(ctx, repository, secret)
	}
	return registry.Result{Reachable: registry.StatusSkipped, Pull: registry.StatusSkipped, PullDetail: loopbackOnlyDetail}
}

// onLoopback reports whether a repository or image reference names a registry on a loopback address.
func onLoopback(ref string) bool {
	host, _, _ := strings.Cut(ref, "/")
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func nameOnly(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name} }
