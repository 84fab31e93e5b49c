package gather

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	configv1 "github.com/openshift/api/config/v1"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/ocl-guard/ocl-guard/diagnose"
	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/validators"
	"github.com/ocl-guard/ocl-guard/validators/validatorstest"
)

var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// recordedLogs is the kubelet's side of the pods/log subresource (envtest and the fake client have none): the log
// of each pod, and which pods were read.
type recordedLogs struct {
	logs map[string]string
	read []string
}

func (r *recordedLogs) TailLog(_ context.Context, _, pod, _ string, _ int64) (string, error) {
	r.read = append(r.read, pod)
	return r.logs[pod], nil
}

func newClient(t *testing.T, objects ...client.Object) client.Client {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := errors.Join(clientgoscheme.AddToScheme(scheme), mcfgv1.Install(scheme), configv1.Install(scheme)); err != nil {
		t.Fatal(err)
	}
	return fake.NewClientBuilder().WithScheme(scheme).WithObjects(objects...).Build()
}

func failedBuild(name, config string) *mcfgv1.MachineOSBuild {
	end := metav1.NewTime(now.Add(-time.Minute))
	return &mcfgv1.MachineOSBuild{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       mcfgv1.MachineOSBuildSpec{MachineOSConfig: mcfgv1.MachineOSConfigReference{Name: config}},
		Status: mcfgv1.MachineOSBuildStatus{BuildEnd: &end, Conditions: []metav1.Condition{
			{Type: string(mcfgv1.MachineOSBuildFailed), Status: metav1.ConditionTrue, Reason: "Failed", Message: "Build Failed", LastTransitionTime: end},
		}},
	}
}

// failedPod is an attempt of the build's Job whose image-build container exited 1 after a RUN step: the rules ask
// for the log, which may name the package or repository behind it.
func failedPod(build *mcfgv1.MachineOSBuild, name string, created time.Time) *corev1.Pod {
	job := mco.BuildJobName(build)
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: mco.Namespace, CreationTimestamp: metav1.NewTime(created),
			Labels: map[string]string{mco.LabelJobName: job}},
		Status: corev1.PodStatus{Phase: corev1.PodFailed, InitContainerStatuses: []corev1.ContainerStatus{{Name: mco.ImageBuildContainer,
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error",
				Message: `Error: building at STEP "RUN rpm-ostree install foo": exit status 1`}}}}},
	}
}

// The Job retried: the log is read from the attempt the rules judge (the newest), not from the first pod listed.
func TestGatherBuildReadsTheLogOfThePodTheRulesJudge(t *testing.T) {
	build := failedBuild("worker-5e1f", "worker")
	first := failedPod(build, "build-worker-5e1f-aaaaa", now.Add(-10*time.Minute))
	retry := failedPod(build, "build-worker-5e1f-zzzzz", now.Add(-5*time.Minute))
	logs := &recordedLogs{logs: map[string]string{
		first.Name: "STEP 3/4: RUN rpm-ostree install foo\nerror: Packages not found: foo\n",
		retry.Name: "STEP 3/4: RUN rpm-ostree install foo\nerror: Packages not found: bar\n",
	}}
	c := newClient(t, build, first, retry)
	s, err := GatherBuild(context.Background(), c, build, LogOptions{Logs: logs, Limit: 4096}, now, diagnose.BuildLimits{})
	if err != nil {
		t.Fatal(err)
	}
	if newest := mco.NewestPod(s.Pods); newest == nil || newest.Name != retry.Name {
		t.Fatalf("the newest attempt is %v, want %s", newest, retry.Name)
	}
	if len(logs.read) != 1 || logs.read[0] != retry.Name {
		t.Errorf("read the logs of %v, want only %s", logs.read, retry.Name)
	}
	if d := diagnose.DiagnoseBuild(s); d.Reason != diagnose.PackageNotFound || d.Evidence == "" || !strings.Contains(d.Message+d.Evidence, "bar") {
		t.Errorf("diagnosis %s %q (evidence %q), want PackageNotFound naming the retry's package bar", d.Reason, d.Message, d.Evidence)
	}
}

// The config, its build and its pool are judged on one build: the one the MCO follows (mco.CurrentBuildName), not
// the last successful one of the config's status.
func TestConfigAndPoolGatherTheSameCurrentBuild(t *testing.T) {
	succeeded := &mcfgv1.MachineOSBuild{ObjectMeta: metav1.ObjectMeta{Name: "worker-0a1b"}}
	rebuild := failedBuild("worker-5e1f", "worker")
	pool := &mcfgv1.MachineConfigPool{ObjectMeta: metav1.ObjectMeta{Name: "worker"}}
	config := &mcfgv1.MachineOSConfig{
		ObjectMeta: metav1.ObjectMeta{Name: "worker", Annotations: map[string]string{mco.AnnotationCurrentBuild: rebuild.Name}},
		Spec:       mcfgv1.MachineOSConfigSpec{MachineConfigPool: mcfgv1.MachineConfigPoolReference{Name: "worker"}},
		Status:     mcfgv1.MachineOSConfigStatus{MachineOSBuild: &mcfgv1.ObjectReference{Name: succeeded.Name}},
	}
	c := newClient(t, succeeded, rebuild, pool, config)
	ctx := context.Background()
	noRules := validators.Env{Actions: func(validators.RuleID) validators.Action { return validators.ActionOff }, Source: &validatorstest.Cluster{}}
	cs, err := GatherConfig(ctx, c, noRules, config)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := GatherPool(ctx, c, pool)
	if err != nil {
		t.Fatal(err)
	}
	if cs.CurrentBuild == nil || ps.LatestBuild == nil || cs.CurrentBuild.Name != rebuild.Name || ps.LatestBuild.Name != rebuild.Name {
		t.Errorf("config's current build %v, pool's %v: want both %s", nameOf(cs.CurrentBuild), nameOf(ps.LatestBuild), rebuild.Name)
	}
}

func nameOf(b *mcfgv1.MachineOSBuild) string {
	if b == nil {
		return "none"
	}
	return b.Name
}
