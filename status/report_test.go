package status

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	configv1 "github.com/openshift/api/config/v1"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/config"
	"github.com/ocl-guard/ocl-guard/diagnose"
	"github.com/ocl-guard/ocl-guard/lookups"
	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/test/golden"
	"github.com/ocl-guard/ocl-guard/validators"
)

var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

const (
	image    = "quay.io/acme/os@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	oldImage = "quay.io/acme/os@sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
	builder  = "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:1111111111111111111111111111111111111111111111111111111111111111"
)

// cluster is what a layered pool "worker" looks like to `ocl-guard status`, as the MCO leaves it.
type cluster struct {
	objects []client.Object
	mosc    *mcfgv1.MachineOSConfig
	pool    *mcfgv1.MachineConfigPool
	// actions are the rules' actions in the cluster's settings; the defaults when nil.
	actions validators.ActionFor
}

func newCluster(nodes int) *cluster {
	c := &cluster{}
	c.pool = &mcfgv1.MachineConfigPool{
		ObjectMeta: metav1.ObjectMeta{Name: "worker"},
		Spec:       mcfgv1.MachineConfigPoolSpec{NodeSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"node-role.kubernetes.io/worker": ""}}},
		Status:     mcfgv1.MachineConfigPoolStatus{MachineCount: int32(nodes)},
	}
	c.mosc = &mcfgv1.MachineOSConfig{
		ObjectMeta: metav1.ObjectMeta{Name: "worker", Generation: 1, CreationTimestamp: metav1.NewTime(now.Add(-24 * time.Hour))},
		Spec: mcfgv1.MachineOSConfigSpec{
			MachineConfigPool:       mcfgv1.MachineConfigPoolReference{Name: "worker"},
			ImageBuilder:            mcfgv1.MachineOSImageBuilder{ImageBuilderType: "Job"},
			RenderedImagePushSecret: mcfgv1.ImageSecretObjectReference{Name: "push"},
			RenderedImagePushSpec:   "quay.io/acme/os:latest",
			Containerfile:           []mcfgv1.MachineOSContainerfile{{ContainerfileArch: mcfgv1.NoArch, Content: "FROM configs AS final\nRUN rpm-ostree install tree && ostree container commit\n"}},
		},
		Status: mcfgv1.MachineOSConfigStatus{ObservedGeneration: 1},
	}
	auth := base64.StdEncoding.EncodeToString([]byte("robot:s3cr3t-never-shown"))
	c.objects = append(c.objects, c.pool, c.mosc,
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "push", Namespace: mco.Namespace}, Type: corev1.SecretTypeDockerConfigJson,
			Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{"quay.io":{"auth":"` + auth + `"}}}`)}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: mco.ClusterPullSecretName, Namespace: mco.ClusterPullSecretNamespace}, Type: corev1.SecretTypeDockerConfigJson,
			Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{"registry.redhat.io":{"auth":"` + auth + `"}}}`)}})
	for i := range nodes {
		c.objects = append(c.objects, &corev1.Node{ObjectMeta: metav1.ObjectMeta{
			Name: "worker-" + string(rune('a'+i)), Labels: map[string]string{"node-role.kubernetes.io/worker": ""},
			Annotations: map[string]string{mco.AnnotationCurrentImage: oldImage, mco.AnnotationDesiredImage: oldImage, mco.AnnotationState: mco.StateDone},
		}})
	}
	return c
}

// rolledOut gives the pool the status the MCO's node controller writes once every node runs the image
// (openshift/machine-config-operator pkg/controller/node/status.go calculateStatus): all machines updated and ready,
// Updated True, Updating False.
func (c *cluster) rolledOut() {
	st := &c.pool.Status
	st.UpdatedMachineCount, st.ReadyMachineCount = st.MachineCount, st.MachineCount
	st.Conditions = []mcfgv1.MachineConfigPoolCondition{
		{Type: mcfgv1.MachineConfigPoolUpdated, Status: corev1.ConditionTrue},
		{Type: mcfgv1.MachineConfigPoolUpdating, Status: corev1.ConditionFalse},
	}
}

func (c *cluster) node(i int) *corev1.Node {
	for _, o := range c.objects {
		if n, ok := o.(*corev1.Node); ok && n.Name == "worker-"+string(rune('a'+i)) {
			return n
		}
	}
	panic("no node")
}

// build adds a MachineOSBuild started 20 minutes ago and makes it the config's current build.
func (c *cluster) build(name string, conditions map[mcfgv1.BuildProgress]bool, ended bool) *mcfgv1.MachineOSBuild {
	start := metav1.NewTime(now.Add(-20 * time.Minute))
	b := &mcfgv1.MachineOSBuild{
		ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: start},
		Spec:       mcfgv1.MachineOSBuildSpec{MachineOSConfig: mcfgv1.MachineOSConfigReference{Name: "worker"}, RenderedImagePushSpec: mcfgv1.ImageTagFormat("quay.io/acme/os:" + name)},
		Status: mcfgv1.MachineOSBuildStatus{BuildStart: &start, Builder: &mcfgv1.MachineOSBuilderReference{ImageBuilderType: "Job",
			Job: &mcfgv1.ObjectReference{Group: "batch", Resource: "jobs", Namespace: mco.Namespace, Name: "build-" + name}}},
	}
	// Reasons and messages of openshift/machine-config-operator pkg/apihelpers/machineosbuild.go.
	for _, c := range []struct {
		t               mcfgv1.BuildProgress
		reason, message string
	}{
		{mcfgv1.MachineOSBuildPrepared, "Prepared", "Build Prepared and Pending"},
		{mcfgv1.MachineOSBuilding, "Building", "Image Build In Progress"},
		{mcfgv1.MachineOSBuildFailed, "Failed", "Build Failed"},
		{mcfgv1.MachineOSBuildInterrupted, "Interrupted", "Build Interrupted"},
		{mcfgv1.MachineOSBuildSucceeded, "Ready", "Build Ready"},
	} {
		status := metav1.ConditionFalse
		if conditions[c.t] {
			status = metav1.ConditionTrue
		}
		b.Status.Conditions = append(b.Status.Conditions, metav1.Condition{Type: string(c.t), Status: status, Reason: c.reason, Message: c.message, LastTransitionTime: start})
	}
	if ended {
		end := metav1.NewTime(now.Add(-11 * time.Minute))
		b.Status.BuildEnd = &end
	}
	if c.mosc.Annotations == nil {
		c.mosc.Annotations = map[string]string{}
	}
	c.mosc.Annotations[mco.AnnotationCurrentBuild] = name
	c.objects = append(c.objects, b,
		&batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "build-" + name, Namespace: mco.Namespace}})
	return b
}

// failedPod adds the build's pod whose image-build container ended with message (FallbackToLogsOnError).
func (c *cluster) failedPod(build, message string) {
	c.objects = append(c.objects, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "build-" + build + "-x7k2p", Namespace: mco.Namespace, CreationTimestamp: metav1.NewTime(now.Add(-20 * time.Minute)),
			Labels: map[string]string{"batch.kubernetes.io/job-name": "build-" + build}},
		Status: corev1.PodStatus{Phase: corev1.PodFailed, InitContainerStatuses: []corev1.ContainerStatus{{Name: mco.ImageBuildContainer, Image: builder,
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", Message: message}}}}},
	})
}

// runningPod adds the build's pod, its image-build container running.
func (c *cluster) runningPod(build string) {
	started := metav1.NewTime(now.Add(-19 * time.Minute))
	c.objects = append(c.objects, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "build-" + build + "-x7k2p", Namespace: mco.Namespace, CreationTimestamp: metav1.NewTime(now.Add(-20 * time.Minute)),
			Labels: map[string]string{"batch.kubernetes.io/job-name": "build-" + build}},
		Status: corev1.PodStatus{Phase: corev1.PodPending, InitContainerStatuses: []corev1.ContainerStatus{{Name: mco.ImageBuildContainer, Image: builder,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: started}}}}},
	})
}

func (c *cluster) reports(t *testing.T, pool string) ([]Report, error) {
	t.Helper()
	fc, opts := c.collect(t, pool)
	return Collect(context.Background(), fc, opts)
}

// collect is how `ocl-guard status` reads the cluster: a client of c's objects and the options of pool.
func (c *cluster) collect(t *testing.T, pool string) (client.Client, Options) {
	t.Helper()
	scheme, err := app.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	// A cluster with Simple Content Access, as most have: the entitlement the MCO copies into builds exists.
	entitlement := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: mco.EntitlementSecretNamespace, Name: mco.EntitlementSecretName}}
	fc := fake.NewClientBuilder().WithScheme(scheme).WithObjects(append(c.objects, entitlement)...).Build()
	env := app.RuleEnv(config.Defaults(), &lookups.Cluster{Cached: fc, Direct: fc}, nil)
	if c.actions != nil {
		env.Actions = c.actions
	}
	return fc, Options{Pool: pool, Env: env, Checker: config.Defaults().Checker, Now: now}
}

// The push is refused: buildah's words, as in diagnose's PushDenied fixtures.
const pushDenied = `Error: pushing image "quay.io/acme/os:worker-5e1f" to "docker://quay.io/acme/os:worker-5e1f": writing blob: initiating layer upload to /v2/acme/os/blobs/uploads/ in quay.io: denied: requested access to the resource is denied`

func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(c *cluster)
	}{
		{"failed-build", func(c *cluster) {
			// A rebuild fails while the previous build's image runs on every node.
			c.mosc.Status.CurrentImagePullSpec, c.mosc.Status.MachineOSBuild = oldImage, &mcfgv1.ObjectReference{Name: "worker-0a1b"}
			b := c.build("worker-5e1f", map[mcfgv1.BuildProgress]bool{mcfgv1.MachineOSBuildFailed: true}, true)
			c.failedPod(b.Name, pushDenied)
			c.pool.Status.Conditions = []mcfgv1.MachineConfigPoolCondition{{Type: mcfgv1.MachineConfigPoolImageBuildDegraded, Status: corev1.ConditionTrue, Reason: "BuildFailed",
				Message: "Failed to build OS image for pool worker (MachineOSBuild: worker-5e1f): Failed: Build Failed"}}
			c.pool.Status.UpdatedMachineCount = 3
		}},
		{"healthy", func(c *cluster) {
			b := c.build("worker-5e1f", map[mcfgv1.BuildProgress]bool{mcfgv1.MachineOSBuildSucceeded: true}, true)
			b.Status.DigestedImagePushSpec = image
			c.mosc.Status.CurrentImagePullSpec, c.mosc.Status.MachineOSBuild = image, &mcfgv1.ObjectReference{Name: b.Name}
			for i := range 3 {
				c.node(i).Annotations = map[string]string{mco.AnnotationCurrentImage: image, mco.AnnotationDesiredImage: image, mco.AnnotationState: mco.StateDone}
			}
			c.rolledOut()
		}},
		{"nodes-cannot-pull", func(c *cluster) {
			b := c.build("worker-5e1f", map[mcfgv1.BuildProgress]bool{mcfgv1.MachineOSBuildSucceeded: true}, true)
			b.Status.DigestedImagePushSpec = image
			c.mosc.Status.CurrentImagePullSpec, c.mosc.Status.MachineOSBuild = image, &mcfgv1.ObjectReference{Name: b.Name}
			c.node(0).Annotations = map[string]string{mco.AnnotationCurrentImage: image, mco.AnnotationDesiredImage: image, mco.AnnotationState: mco.StateDone}
			// The daemon's words (pkg/daemon/update.go, "failed to update OS to ... after retries"), as in diagnose's fixtures.
			for _, i := range []int{1, 2} {
				c.node(i).Annotations = map[string]string{mco.AnnotationDesiredImage: image, mco.AnnotationCurrentImage: oldImage, mco.AnnotationState: mco.StateDegraded,
					mco.AnnotationReason: "failed to update OS to " + image + " after retries: error running rpm-ostree rebase --experimental ostree-unverified-registry:" + image +
						": error: Creating importer: failed to invoke method OpenImage: reading manifest sha256:0123 in quay.io/acme/os: unauthorized: access to the requested resource is not authorized"}
			}
			c.pool.Status.UpdatedMachineCount = 1
			c.pool.Status.Conditions = []mcfgv1.MachineConfigPoolCondition{{Type: mcfgv1.MachineConfigPoolUpdating, Status: corev1.ConditionTrue}}
		}},
		{"never-built", func(c *cluster) {
			// A new config, an hour old, naming a push secret that does not exist: the MCO's operator refuses to run its
			// builder (pkg/controller/build/helpers.go validateSecret, wrapped by pkg/operator/sync.go and status.go).
			c.mosc.CreationTimestamp = metav1.NewTime(now.Add(-time.Hour))
			c.mosc.Status.ObservedGeneration = 0
			c.mosc.Spec.RenderedImagePushSecret.Name = "push-typo"
			c.objects = append(c.objects, &configv1.ClusterOperator{ObjectMeta: metav1.ObjectMeta{Name: mco.OperatorName},
				Status: configv1.ClusterOperatorStatus{Conditions: []configv1.ClusterOperatorStatusCondition{{
					Type: configv1.OperatorDegraded, Status: configv1.ConditionTrue, Reason: "MachineOSBuilderFailed",
					Message: `Failed to resync 4.20.0 because: could not update Machine OS Builder deployment: could not validate renderedImagePushSecret "push-typo" for MachineOSConfig worker: secret push-typo from worker is not found. Did you use the right secret name?`,
				}}}})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster(3)
			tc.setup(c)
			reports, err := c.reports(t, "")
			if err != nil {
				t.Fatal(err)
			}
			var text, js bytes.Buffer
			if err := WriteText(&text, reports); err != nil {
				t.Fatal(err)
			}
			if err := WriteJSON(&js, reports); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", tc.name+".txt"), text.Bytes())
			golden.Check(t, filepath.Join("testdata", tc.name+".json"), js.Bytes())
			if strings.Contains(text.String(), "s3cr3t") || strings.Contains(js.String(), "s3cr3t") {
				t.Error("a credential leaked into the output")
			}
			wantHealthy := tc.name == "healthy"
			if got := ExitCode(reports); (got == 0) != wantHealthy {
				t.Errorf("exit code %d for %s", got, tc.name)
			}
		})
	}
}

func TestNextFollowsTheMostUpstreamProblem(t *testing.T) {
	c := newCluster(3)
	b := c.build("worker-5e1f", map[mcfgv1.BuildProgress]bool{mcfgv1.MachineOSBuildFailed: true}, true)
	c.failedPod(b.Name, pushDenied)
	reports, err := c.reports(t, "worker")
	if err != nil {
		t.Fatal(err)
	}
	r := reports[0]
	if r.Config.Diagnosis == nil || r.Config.Diagnosis.Reason != diagnose.CurrentBuildFailed {
		t.Fatalf("the config reports its failed build: %+v", r.Config.Diagnosis)
	}
	if r.Build == nil || r.Build.Diagnosis == nil || r.Build.Diagnosis.Reason != diagnose.PushDenied || r.Next != r.Build.Diagnosis.Message {
		t.Errorf("next is the build's fix, the cause: %q", r.Next)
	}
	if r.Build.Phase != mco.PhaseFailed.String() || r.Build.Duration != "9m0s" {
		t.Errorf("phase %s, duration %s", r.Build.Phase, r.Build.Duration)
	}
}

// missingPushSecretWarns is a cluster whose settings set secret-exists to warn, with a config naming a push secret
// that does not exist.
func missingPushSecretWarns() *cluster {
	c := newCluster(3)
	c.mosc.Spec.RenderedImagePushSecret.Name = "push-typo"
	c.actions = func(id validators.RuleID) validators.Action {
		if id == validators.RuleSecretExists {
			return validators.ActionWarn
		}
		return config.Defaults().ActionFor(id)
	}
	return c
}

// A rule set to warn whose check fails: its error is one finding, printed once with its outcome.
func TestEachFindingOnce(t *testing.T) {
	c := missingPushSecretWarns()
	reports, err := c.reports(t, "worker")
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	if err := WriteText(&text, reports); err != nil {
		t.Fatal(err)
	}
	const line = `             warn [secret-exists] spec.renderedImagePushSecret.name: Not found: "push-typo": no Secret "push-typo"`
	if n := strings.Count(text.String(), `"push-typo": no Secret`); n != 1 || !strings.Contains(text.String(), line) {
		t.Errorf("the finding is printed %d times, want once as\n%s...\nin\n%s", n, line, text.String())
	}
}

// A config warning upstream (here a rule set to warn) must not hide a failure downstream: on `make run`, before the
// MCO's current-build annotation was seeded, next pointed at a registry warning instead of the failed build that
// blocks the rollout.
func TestNextPrefersAnErrorDownstreamToAWarningUpstream(t *testing.T) {
	c := missingPushSecretWarns()
	c.pool.Status.Conditions = []mcfgv1.MachineConfigPoolCondition{{Type: mcfgv1.MachineConfigPoolImageBuildDegraded, Status: corev1.ConditionTrue, Reason: "BuildFailed",
		Message: "Failed to build OS image for pool worker (MachineOSBuild: worker-5e1f): Failed: Build Failed"}}
	reports, err := c.reports(t, "worker")
	if err != nil {
		t.Fatal(err)
	}
	r := reports[0]
	if r.Config.Diagnosis == nil || r.Config.Diagnosis.Reason != diagnose.ConfigCheckFailed || r.Config.Diagnosis.Severity != diagnose.SeverityWarning {
		t.Fatalf("the config's diagnosis is %+v, want a ConfigCheckFailed warning", r.Config.Diagnosis)
	}
	if d := r.Rollout.Diagnosis; d == nil || d.Reason != diagnose.BuildFailedBlocksRollout || r.Next != d.Message {
		t.Errorf("next is %q, want the blocked rollout's fix: %+v", r.Next, d)
	}
}

func TestPoolNotLayered(t *testing.T) {
	_, err := newCluster(1).reports(t, "infra")
	var notLayered NotLayeredError
	if !errors.As(err, &notLayered) || notLayered.Pool != "infra" {
		t.Errorf("error %v", err)
	}
}

func TestJSONIsAnArray(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, nil); err != nil {
		t.Fatal(err)
	}
	var v []Report
	if err := json.Unmarshal(b.Bytes(), &v); err != nil || v == nil {
		t.Errorf("%q: %v", b.String(), err)
	}
}

// The README shows the real output for a failed build: the golden file, kept in step here.
func TestReadmeShowsTheFailedBuild(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	golden, err := os.ReadFile("testdata/failed-build.txt")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(readme, golden) {
		t.Error("README.md does not show status/testdata/failed-build.txt: paste it into the `ocl-guard status` section")
	}
}

// snapshots is what `ocl-guard status` gathers of the cluster: the snapshots of pool, which NewReport and Decide read.
func (c *cluster) snapshots(t *testing.T, pool string) Snapshots {
	t.Helper()
	fc, opts := c.collect(t, pool)
	snapshots, err := CollectSnapshots(context.Background(), fc, opts)
	if err != nil || len(snapshots) != 1 {
		t.Fatalf("%d snapshots, %v", len(snapshots), err)
	}
	return snapshots[0]
}

// Between a build's success and the end of its rollout nothing is wrong and there is still something to wait for:
// status's next line is wait's verdict on the same snapshots, not "nothing to do" while `ocl-guard wait` waits. Each
// row starts from the healthy golden's cluster, rolled out, and steps back to a moment the MCO passes through.
func TestNextWaitsWhereWaitWaits(t *testing.T) {
	// healthy is the golden "healthy": build worker-5e1f succeeded with image, and the rollout is over; the build
	// ended a minute ago, so that a moment of its rollout is not yet late (diagnose's RolloutNotStarted).
	healthy := func(c *cluster) *mcfgv1.MachineOSBuild {
		b := c.build("worker-5e1f", map[mcfgv1.BuildProgress]bool{mcfgv1.MachineOSBuildSucceeded: true}, true)
		b.Status.DigestedImagePushSpec = image
		end := metav1.NewTime(now.Add(-time.Minute))
		b.Status.BuildEnd = &end
		for i := range b.Status.Conditions {
			b.Status.Conditions[i].LastTransitionTime = end
		}
		c.mosc.Status.CurrentImagePullSpec, c.mosc.Status.MachineOSBuild = image, &mcfgv1.ObjectReference{Name: b.Name}
		for i := range 3 {
			c.node(i).Annotations = map[string]string{mco.AnnotationCurrentImage: image, mco.AnnotationDesiredImage: image, mco.AnnotationState: mco.StateDone}
		}
		c.rolledOut()
		return b
	}
	// previousRollout puts every node back on oldImage, the pool as the MCO left it after that image's rollout.
	previousRollout := func(c *cluster) {
		for i := range 3 {
			c.node(i).Annotations = map[string]string{mco.AnnotationCurrentImage: oldImage, mco.AnnotationDesiredImage: oldImage, mco.AnnotationState: mco.StateDone}
		}
	}
	// updating is the pool's status while its nodes move to the config's image, updated of them done.
	updating := func(c *cluster, updated int32) {
		c.pool.Status.UpdatedMachineCount, c.pool.Status.ReadyMachineCount = updated, updated
		c.pool.Status.Conditions = []mcfgv1.MachineConfigPoolCondition{
			{Type: mcfgv1.MachineConfigPoolUpdated, Status: corev1.ConditionFalse},
			{Type: mcfgv1.MachineConfigPoolUpdating, Status: corev1.ConditionTrue},
		}
	}
	for _, tc := range []struct {
		name  string
		setup func(c *cluster)
		// why is part of the wait line.
		why string
	}{
		{"a new MachineOSConfig: the MCO has not started its first build", func(c *cluster) {
			c.mosc.CreationTimestamp = metav1.NewTime(now.Add(-time.Minute))
		}, "the MCO has not started a build of MachineOSConfig worker"},
		{"the build runs", func(c *cluster) {
			c.mosc.Status.CurrentImagePullSpec = oldImage
			b := c.build("worker-5e1f", map[mcfgv1.BuildProgress]bool{mcfgv1.MachineOSBuilding: true}, false)
			c.runningPod(b.Name)
		}, "MachineOSBuild worker-5e1f is Building"},
		{"the build succeeded, its digested image not recorded yet", func(c *cluster) {
			b := healthy(c)
			b.Status.DigestedImagePushSpec = ""
			c.mosc.Status.CurrentImagePullSpec = oldImage
			previousRollout(c)
		}, "MachineOSBuild worker-5e1f succeeded; the MCO has not recorded its digested image yet"},
		{"the build succeeded, the MachineOSConfig does not point at its image yet", func(c *cluster) {
			healthy(c)
			c.mosc.Status.CurrentImagePullSpec = oldImage
			previousRollout(c)
		}, "MachineOSConfig worker does not point at " + image + " yet"},
		{"the MachineOSConfig points at the image, no node has started", func(c *cluster) {
			healthy(c)
			previousRollout(c)
		}, "0/3 nodes updated: node worker-a does not run " + image + " yet"},
		{"the rollout is underway", func(c *cluster) {
			healthy(c)
			previousRollout(c)
			c.node(0).Annotations = map[string]string{mco.AnnotationCurrentImage: image, mco.AnnotationDesiredImage: image, mco.AnnotationState: mco.StateDone}
			c.node(1).Annotations = map[string]string{mco.AnnotationCurrentImage: oldImage, mco.AnnotationDesiredImage: image, mco.AnnotationState: mco.StateWorking}
			updating(c, 1)
		}, "1/3 nodes updated: node worker-b does not run " + image + " yet"},
		{"every node runs the image, the pool is not Updated yet", func(c *cluster) {
			healthy(c)
			updating(c, 2)
		}, "2/3 nodes updated: pool worker is not Updated yet"},
		{"right after oc apply: the MCO has not observed the new generation", func(c *cluster) {
			healthy(c)
			c.mosc.Generation = 2
		}, "the MCO has not acted on generation 2 of MachineOSConfig worker yet (observed 1)"},
		{"a MachineConfig changed: the pool renders a config the current build did not build", func(c *cluster) {
			b := healthy(c)
			b.Spec.MachineConfig.Name = "rendered-worker-1"
			c.pool.Spec.Configuration.Name = "rendered-worker-2"
		}, "MachineOSBuild worker-5e1f builds rendered-worker-1, pool worker now renders rendered-worker-2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster(3)
			tc.setup(c)
			s := c.snapshots(t, "worker")
			r := NewReport(s)
			for _, d := range []*Diagnosis{r.Config.Diagnosis, r.Rollout.Diagnosis} {
				if d != nil {
					t.Fatalf("a diagnosis in a moment the MCO passes through: %+v", *d)
				}
			}
			if r.Build != nil && r.Build.Diagnosis != nil {
				t.Fatalf("a diagnosis of the build: %+v", *r.Build.Diagnosis)
			}
			v := Decide(s, GoalRollout, mco.CurrentBuildName(s.Config.Config))
			if v.Outcome != Waiting || !strings.Contains(v.Why, tc.why) {
				t.Fatalf("wait decides %s: %q, want waiting on %q", v.Outcome, v.Why, tc.why)
			}
			if want := "wait: " + v.Why; r.Next != want {
				t.Errorf("next: %q, want %q", r.Next, want)
			}
			if !r.Healthy || ExitCode([]Report{r}) != 0 {
				t.Error("a moment of a rollout is no problem: healthy, exit 0")
			}
		})
	}
}

// Every moment TestDecide judges, status's next line says what wait decides for a rollout (status's goal): waiting
// is "wait: " and the verdict, done is "nothing to do" and nothing else is, a failure is its diagnosis's fix. The
// rows' snapshots are judged as a single look judges them: on the current build, as TestDecide does.
func TestNextAgreesWithDecide(t *testing.T) {
	for _, tc := range decideCases() {
		t.Run(tc.name, func(t *testing.T) {
			p := newWaitPool()
			tc.edit(p)
			s := p.snapshots()
			r := NewReport(s)
			v := Decide(s, GoalRollout, mco.CurrentBuildName(s.Config.Config))
			diagnosed := r.Config.Diagnosis != nil || r.Rollout.Diagnosis != nil || (r.Build != nil && r.Build.Diagnosis != nil)
			switch {
			case v.Outcome == Waiting && !diagnosed && r.Next != "wait: "+v.Why:
				t.Errorf("wait waits (%s), next is %q", v.Why, r.Next)
			case v.Outcome == Waiting && r.Next == "nothing to do":
				t.Errorf("wait waits (%s), next says nothing to do", v.Why)
			case v.Outcome == Done && !diagnosed && r.Next != "nothing to do":
				t.Errorf("wait is done (%s), next is %q", v.Why, r.Next)
			case v.Outcome != Done && r.Next == "nothing to do":
				t.Errorf("wait says %s (%s), next says nothing to do", v.Outcome, v.Why)
			case v.Outcome == Failed && v.Diagnosis != nil && r.Next != v.Diagnosis.Message:
				t.Errorf("wait fails on %s, next is %q, want its fix %q", v.Diagnosis.Reason, r.Next, v.Diagnosis.Message)
			case v.Outcome == Failed && v.Diagnosis == nil && !diagnosed && r.Next != v.Why:
				t.Errorf("wait fails (%s), next is %q", v.Why, r.Next)
			}
		})
	}
}
