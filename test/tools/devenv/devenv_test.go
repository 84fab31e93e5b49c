package main

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/checker"
	"github.com/ocl-guard/ocl-guard/diagnose"
	"github.com/ocl-guard/ocl-guard/status"
	"github.com/ocl-guard/ocl-guard/test/testbed"
	"github.com/ocl-guard/ocl-guard/validators"
)

// TestMakeRunShowsAllThreeFaces runs `make run`'s program as a user would: it waits for "Ready", checks each
// diagnosis and sample the printed commands point at, and stops it with SIGINT, which must end it without error.
func TestMakeRunShowsAllThreeFaces(t *testing.T) {
	port := freePort(t)
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run([]string{"-kubeconfig-out", kubeconfig, "-registry-port", strconv.Itoa(port)}, out)
	}()
	// The test's own SIGINT must never kill the test binary, even after run has stopped listening for it.
	caught := make(chan os.Signal, 1)
	signal.Notify(caught, os.Interrupt)
	t.Cleanup(func() { signal.Stop(caught) }) // after the interrupt below (cleanups run last first)
	interrupt := sync.OnceValue(func() error {
		if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
			return err
		}
		select {
		case err := <-done:
			return err
		case <-time.After(time.Minute):
			return errors.New("still running a minute after SIGINT")
		}
	})
	t.Cleanup(func() { _ = interrupt() }) // a failed check must not leave the control plane running
	waitFor(t, done, out, "Ready in", 4*time.Minute)

	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	warnings := &testbed.WarningRecorder{}
	cfg.WarningHandler = warnings
	scheme, err := app.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	kube, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	registryHost := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))

	t.Run("the failed build says the push credentials were refused", func(t *testing.T) {
		build := &mcfgv1.MachineOSBuild{ObjectMeta: nameOnly(failedPool + buildHash)}
		expectDiagnosis(ctx, t, kube, build, string(diagnose.PushAuth), registryHost)
	})
	t.Run("the stalled pool names the nodes that cannot pull", func(t *testing.T) {
		pool := &mcfgv1.MachineConfigPool{ObjectMeta: nameOnly(stalledPool)}
		expectDiagnosis(ctx, t, kube, pool, string(diagnose.NodeImagePullAuth), stalledPool+"-1")
	})
	t.Run("the failed build's pool blames the build", func(t *testing.T) {
		pool := &mcfgv1.MachineConfigPool{ObjectMeta: nameOnly(failedPool)}
		expectDiagnosis(ctx, t, kube, pool, string(diagnose.BuildFailedBlocksRollout), failedPool+buildHash)
	})
	t.Run("the audit flags the config whose push secret was rotated", func(t *testing.T) {
		mosc := &mcfgv1.MachineOSConfig{ObjectMeta: nameOnly(failedPool)}
		expectDiagnosis(ctx, t, kube, mosc, string(diagnose.ConfigCheckFailed), "["+string(validators.RulePushSpecPushPermission)+"]")
	})

	t.Run("the pull-only sample is denied by the registry probe", func(t *testing.T) {
		err := kube.Create(ctx, sample(t, "machineosconfig_local_pull_only.yaml", port), client.DryRunAll)
		if err == nil || !strings.Contains(err.Error(), "spec.renderedImagePushSecret.name") || !strings.Contains(err.Error(), "["+string(validators.RulePushSpecPushPermission)+"]") {
			t.Errorf("want a denial by %s on spec.renderedImagePushSecret.name, got %v", validators.RulePushSpecPushPermission, err)
		}
	})
	t.Run("the unreachable sample is admitted with the reachability warning", func(t *testing.T) {
		got := warnings.During(func() {
			if err := kube.Create(ctx, sample(t, "machineosconfig_local_unreachable.yaml", port), client.DryRunAll); err != nil {
				t.Errorf("denied: %v", err)
			}
		})
		joined := strings.Join(got, "\n")
		if !strings.Contains(joined, "["+string(validators.RulePushSpecReachable)+"]") || !strings.Contains(joined, unreachableHost(port)) {
			t.Errorf("no %s warning naming %s in:\n%s", validators.RulePushSpecReachable, unreachableHost(port), joined)
		}
	})
	t.Run("ocl-guard status, as printed, shows the failed build with the checker's settings", func(t *testing.T) {
		m := regexp.MustCompile(`(?m)^\s+(\S+) status --kubeconfig (\S+)`).FindStringSubmatch(out.String())
		if m == nil {
			t.Fatalf("no ocl-guard status command printed:\n%s", out)
		}
		cmd := exec.CommandContext(ctx, m[1], "status", failedPool, "--kubeconfig", m[2])
		cmd.Dir = testbed.RepoRoot()
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		var exit *exec.ExitError
		if err := cmd.Run(); !errors.As(err, &exit) || exit.ExitCode() != 1 {
			t.Fatalf("%s: %v (want exit code 1: a problem)\n%s%s", cmd, err, stdout.String(), stderr.String())
		}
		text := stdout.String()
		mosc := &mcfgv1.MachineOSConfig{ObjectMeta: nameOnly(failedPool)}
		if err := kube.Get(ctx, client.ObjectKeyFromObject(mosc), mosc); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{
			"settings: ConfigMap " + status.InstallNamespace + "/ocl-guard-settings-", // the checker's, not the built-in defaults
			"2 build    MachineOSBuild " + failedPool + buildHash + ": Failed",
			string(diagnose.PushAuth) + " (Error): MachineOSBuild " + failedPool + buildHash,
			// What the audit finds (the rotated secret may only pull), as the checker wrote it.
			"fail [" + string(validators.RulePushSpecPushPermission) + "] spec.renderedImagePushSecret.name: ",
			mosc.Annotations[checker.AnnotationDiagnosis] + " (Error): ",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("no %q in:\n%s", want, text)
			}
		}
		if strings.Contains(text, "loopback") {
			t.Errorf("status judged the local registry with the built-in settings (loopback refused), not the checker's:\n%s", text)
		}
	})
	t.Run("every printed sample exists", func(t *testing.T) {
		printed := regexp.MustCompile(`config/samples/[a-z_]+\.yaml`).FindAllString(out.String(), -1)
		if len(printed) < 4 {
			t.Errorf("only %d samples printed:\n%s", len(printed), out)
		}
		for _, p := range printed {
			if _, err := os.Stat(filepath.Join(testbed.RepoRoot(), p)); err != nil {
				t.Errorf("printed %s: %v", p, err)
			}
		}
	})

	// Ctrl-C.
	if err := interrupt(); err != nil {
		t.Errorf("after SIGINT: %v (make run must exit 0)", err)
	}
}

func expectDiagnosis(ctx context.Context, t *testing.T, kube client.Client, obj client.Object, diagnosis, inMessage string) {
	t.Helper()
	var got map[string]string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if err := kube.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			t.Fatal(err)
		}
		got = obj.GetAnnotations()
		if strings.Contains(got[checker.AnnotationDiagnosis], diagnosis) && strings.Contains(got[checker.AnnotationMessage], inMessage) {
			return
		}
	}
	t.Errorf("%s: diagnosis %q message %q, want %q and a message naming %q", obj.GetName(),
		got[checker.AnnotationDiagnosis], got[checker.AnnotationMessage], diagnosis, inMessage)
}

// sample reads a sample MachineOSConfig, pointed at the registry's port.
func sample(t *testing.T, file string, port int) *mcfgv1.MachineOSConfig {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testbed.RepoRoot(), "config", "samples", file))
	if err != nil {
		t.Fatal(err)
	}
	data = []byte(strings.ReplaceAll(string(data), ":"+strconv.Itoa(samplePort)+"/", ":"+strconv.Itoa(port)+"/"))
	var mosc mcfgv1.MachineOSConfig
	if err := yaml.UnmarshalStrict(data, &mosc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return &mosc
}

func waitFor(t *testing.T, done chan error, out *syncBuffer, text string, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	for !strings.Contains(out.String(), text) {
		select {
		case err := <-done:
			done <- err // for the cleanup, which then need not wait
			t.Fatalf("devenv ended before printing %q: %v\n%s", text, err, out)
		case <-deadline:
			t.Fatalf("devenv printed no %q within %s:\n%s", text, timeout, out)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
