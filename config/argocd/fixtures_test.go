package argocd

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	yaml3 "go.yaml.in/yaml/v3"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/ocl-guard/ocl-guard/checker"
	"github.com/ocl-guard/ocl-guard/config"
	"github.com/ocl-guard/ocl-guard/diagnose"
	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/validators"
	"github.com/ocl-guard/ocl-guard/validators/validatorstest"
)

// annotator diagnoses the snapshot built around a testdata object (raw YAML) and returns the diagnosis and the
// annotation edits the checker's controller for that kind patches onto an object holding current.
type annotator func(raw []byte, current map[string]string) (diagnose.Diagnosis, map[string]*string, error)

// diagnosedFixture is a testdata object that carries ocl-guard's annotations: the diagnosis it is meant to show,
// and how the checker comes to it.
type diagnosedFixture struct {
	path     string // under resource_customizations/machineconfiguration.openshift.io/
	reason   diagnose.Reason
	severity diagnose.Severity
	annotate annotator
}

// diagnosedFixtures are the testdata objects that hold a diagnosis. TestFixturesHoldWhatTheCheckerWrites keeps
// their ocl-guard.io/* annotations equal to what the checker writes for them, and every other testdata object free
// of any; `go test ./config/argocd -update` rewrites them.
var diagnosedFixtures = []diagnosedFixture{
	{"MachineOSBuild/testdata/failed_push_auth.yaml", diagnose.PushAuth, diagnose.SeverityError, buildFixture(failedPushAuth)},
	{"MachineOSBuild/testdata/stuck.yaml", diagnose.BuildStuck, diagnose.SeverityWarning, buildFixture(stuckBuilding)},
	{"MachineOSBuild/testdata/interrupted_diagnosed.yaml", diagnose.Interrupted, diagnose.SeverityInfo, buildFixture(interrupted)},
	{"MachineConfigPool/testdata/node_degraded_diagnosed.yaml", diagnose.NodeImagePullAuth, diagnose.SeverityError, poolFixture(nodePullRefused)},
	{"MachineConfigPool/testdata/stalled.yaml", diagnose.RolloutStalled, diagnose.SeverityWarning, poolFixture(stalledRollout)},
	{"MachineConfigPool/testdata/paused_diagnosed.yaml", diagnose.RolloutPaused, diagnose.SeverityInfo, poolFixture(pausedRollout)},
	{"MachineOSConfig/testdata/audit_failed.yaml", diagnose.ConfigCheckFailed, diagnose.SeverityError, configFixture(fixtureCluster{deleted: "quay-push"}, pushSecretDeleted)},
	{"MachineOSConfig/testdata/rebuild_not_started.yaml", diagnose.RebuildNotStarted, diagnose.SeverityWarning, configFixture(fixtureCluster{}, rebuildIgnored)},
	{"MachineOSConfig/testdata/pool_paused.yaml", diagnose.PoolPaused, diagnose.SeverityInfo, configFixture(fixtureCluster{}, poolPausedWhileBuilding)},
}

const group = "machineconfiguration.openshift.io"

// TestFixturesHoldWhatTheCheckerWrites: a testdata object's ocl-guard.io/* annotations are the checker's own
// output for the snapshot of diagnosedFixtures (the real diagnose rules, then checker.AnnotationChanges and the
// pool's and config's additions), never written by hand, so none can hold a value the code no longer writes.
func TestFixturesHoldWhatTheCheckerWrites(t *testing.T) {
	byPath := map[string]diagnosedFixture{}
	for _, f := range diagnosedFixtures {
		byPath[f.path] = f
	}
	testdata, err := fs.Glob(Customizations, path.Join(root, group, "*", "testdata", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(testdata) == 0 {
		t.Fatal("no testdata found")
	}
	for _, file := range testdata {
		rel := strings.TrimPrefix(file, path.Join(root, group)+"/")
		f, diagnosed := byPath[rel]
		delete(byPath, rel)
		t.Run(rel, func(t *testing.T) {
			raw, err := fs.ReadFile(Customizations, file)
			if err != nil {
				t.Fatal(err)
			}
			var obj struct {
				Metadata struct {
					Annotations map[string]string `json:"annotations"`
				} `json:"metadata"`
			}
			if err := yaml.Unmarshal(raw, &obj); err != nil {
				t.Fatal(err)
			}
			got := obj.Metadata.Annotations
			want := withoutCheckers(got)
			if diagnosed {
				d, changes, err := f.annotate(raw, want)
				if err != nil {
					t.Fatal(err)
				}
				if d.Reason != f.reason || d.Severity != f.severity {
					t.Fatalf("the snapshot is diagnosed %s (%s), this fixture is for %s (%s): %s", d.Reason, d.Severity, f.reason, f.severity, d.Message)
				}
				apply(want, changes)
			}
			if maps.Equal(got, want) {
				return
			}
			if !*update {
				t.Fatalf("the annotations differ from what the checker writes; run go test ./config/argocd -update (-want +got):\n%s", cmp.Diff(want, got))
			}
			updated, err := setAnnotations(raw, want)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, updated, 0o644); err != nil {
				t.Fatal(err)
			}
		})
	}
	for p := range byPath {
		t.Errorf("diagnosedFixtures names %s, which is no testdata file", p)
	}
}

// withoutCheckers returns a copy of annotations without the checker's.
func withoutCheckers(annotations map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range annotations {
		if !strings.HasPrefix(k, "ocl-guard.io/") {
			out[k] = v
		}
	}
	return out
}

// apply makes the annotation edits, as the checker's merge patch does.
func apply(annotations map[string]string, changes map[string]*string) {
	for k, v := range changes {
		if v == nil {
			delete(annotations, k)
		} else {
			annotations[k] = *v
		}
	}
}

// setAnnotations replaces metadata.annotations in the YAML document raw, keeping the rest of it as written.
func setAnnotations(raw []byte, annotations map[string]string) ([]byte, error) {
	var doc yaml3.Node
	if err := yaml3.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) != 1 {
		return nil, fmt.Errorf("want one YAML document")
	}
	metadata := mappingValue(doc.Content[0], "metadata")
	if metadata == nil {
		return nil, fmt.Errorf("no metadata")
	}
	node := &yaml3.Node{Kind: yaml3.MappingNode}
	for _, k := range slices.Sorted(maps.Keys(annotations)) {
		node.Content = append(node.Content, &yaml3.Node{Kind: yaml3.ScalarNode, Value: k}, stringNode(annotations[k]))
	}
	for i := 0; i < len(metadata.Content); i += 2 {
		if metadata.Content[i].Value == "annotations" {
			metadata.Content = slices.Delete(metadata.Content, i, i+2)
			break
		}
	}
	if len(annotations) > 0 {
		// After the name, where the fixtures keep it.
		at := min(2, len(metadata.Content))
		metadata.Content = slices.Insert(metadata.Content, at, &yaml3.Node{Kind: yaml3.ScalarNode, Value: "annotations"}, node)
	}
	var out bytes.Buffer
	enc := yaml3.NewEncoder(&out)
	enc.SetIndent(2)
	enc.CompactSeqIndent()
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	return out.Bytes(), enc.Close()
}

// stringNode is value as a YAML string: quoted when it would read as another type (the since timestamp), folded when
// long (messages), literal when it has several lines (evidence).
func stringNode(value string) *yaml3.Node {
	n := &yaml3.Node{Kind: yaml3.ScalarNode, Tag: "!!str", Value: value}
	switch {
	case strings.Contains(value, "\n"):
		n.Style = yaml3.LiteralStyle
	case len(value) > 80:
		n.Style = yaml3.FoldedStyle
	}
	return n
}

func mappingValue(n *yaml3.Node, key string) *yaml3.Node {
	for i := 0; n.Kind == yaml3.MappingNode && i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// annotatorFor decodes a testdata object, gives it the annotations it has without the checker's, and asks
// diagnoseAndChange what the checker makes of it.
func annotatorFor[T any, PT interface {
	*T
	SetAnnotations(map[string]string)
}](diagnoseAndChange func(obj PT, current map[string]string) (diagnose.Diagnosis, map[string]*string)) annotator {
	return func(raw []byte, current map[string]string) (diagnose.Diagnosis, map[string]*string, error) {
		obj := PT(new(T))
		if err := yaml.Unmarshal(raw, obj); err != nil {
			return diagnose.Diagnosis{}, nil, err
		}
		obj.SetAnnotations(current)
		d, changes := diagnoseAndChange(obj, current)
		return d, changes, nil
	}
}

// buildFixture diagnoses a MachineOSBuild as the build controller does.
func buildFixture(snapshot func(*mcfgv1.MachineOSBuild) diagnose.BuildSnapshot) annotator {
	return annotatorFor(func(b *mcfgv1.MachineOSBuild, current map[string]string) (diagnose.Diagnosis, map[string]*string) {
		s := snapshot(b)
		d := diagnose.DiagnoseBuild(s)
		return d, checker.AnnotationChanges(current, d, s.Now)
	})
}

// poolFixture diagnoses a MachineConfigPool as the pool controller does.
func poolFixture(snapshot func(*mcfgv1.MachineConfigPool) diagnose.PoolSnapshot) annotator {
	return annotatorFor(func(p *mcfgv1.MachineConfigPool, current map[string]string) (diagnose.Diagnosis, map[string]*string) {
		s := snapshot(p)
		d, progress := diagnose.DiagnosePool(s)
		return d, checker.PoolAnnotationChanges(current, d, progress, s.Config != nil, s.Now)
	})
}

// configFixture diagnoses a MachineOSConfig as the MachineOSConfig controller does, with the admission rules'
// verdict on it against cluster.
func configFixture(cluster fixtureCluster, snapshot func(*mcfgv1.MachineOSConfig) diagnose.ConfigSnapshot) annotator {
	return annotatorFor(func(c *mcfgv1.MachineOSConfig, current map[string]string) (diagnose.Diagnosis, map[string]*string) {
		s := snapshot(c)
		if cluster.Cluster == nil {
			cluster.Cluster = &validatorstest.Cluster{}
		}
		env := validators.Env{Source: cluster, Actions: config.Defaults().ActionFor} // no prober: registries not probed
		s.Findings = validators.Evaluate(context.Background(), c, env).Findings
		d := diagnose.DiagnoseConfig(s)
		return d.Diagnosis, checker.ConfigAnnotationChanges(current, d, s.Now)
	})
}

// The fixtures' times and images.
var (
	t0         = time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	target     = "quay.io/acme/os@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	oldImage   = "quay.io/acme/os@sha256:0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d"
	builderImg = "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:1111111111111111111111111111111111111111111111111111111111111111"
)

// layeredConfig is the MachineOSConfig of the fixtures' builds and pools, as the MCO leaves it once image has been
// built for it.
func layeredConfig(name, image string) *mcfgv1.MachineOSConfig {
	c := &mcfgv1.MachineOSConfig{ObjectMeta: metav1.ObjectMeta{Name: name}}
	c.Spec.MachineConfigPool.Name = name
	c.Spec.RenderedImagePushSecret.Name = "quay-push"
	c.Spec.RenderedImagePushSpec = "quay.io/acme/os:latest"
	c.Status.CurrentImagePullSpec = mcfgv1.ImageDigestFormat(image)
	return c
}

// buildJob is the build's Job: failed for good after its retries, or running.
func buildJob(b *mcfgv1.MachineOSBuild, failed bool) *batchv1.Job {
	backoff := int32(3)
	j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: mco.BuildJobName(b), Namespace: mco.Namespace}, Spec: batchv1.JobSpec{BackoffLimit: &backoff}}
	j.Status.Active = 1
	if failed {
		j.Status = batchv1.JobStatus{Failed: 4, Conditions: []batchv1.JobCondition{{Type: batchv1.JobFailed, Status: corev1.ConditionTrue,
			Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit"}}}
	}
	return j
}

// buildPod is the Job's pod with the image-build init container in state.
func buildPod(b *mcfgv1.MachineOSBuild, created time.Time, phase corev1.PodPhase, state corev1.ContainerState) corev1.Pod {
	job := mco.BuildJobName(b)
	return corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: job + "-x7k2p", Namespace: mco.Namespace, CreationTimestamp: metav1.NewTime(created),
			Labels: map[string]string{mco.LabelJobName: job}},
		Spec: corev1.PodSpec{
			InitContainers: []corev1.Container{{Name: mco.ImageBuildContainer, Image: builderImg}},
			Containers:     []corev1.Container{{Name: "create-digest-configmap", Image: builderImg}},
		},
		Status: corev1.PodStatus{Phase: phase, InitContainerStatuses: []corev1.ContainerStatus{{Name: mco.ImageBuildContainer, Image: builderImg, State: state}}},
	}
}

func failedPushAuth(b *mcfgv1.MachineOSBuild) diagnose.BuildSnapshot {
	push := string(b.Spec.RenderedImagePushSpec)
	msg := `Error: pushing image "` + push + `" to "docker://` + push + `": trying to reuse blob sha256:7e49dc61 at destination: ` +
		`checking whether a blob sha256:7e49dc61 exists in quay.io/acme/os: unauthorized: access to the requested resource is not authorized`
	return diagnose.BuildSnapshot{
		Build: b, Config: layeredConfig(b.Spec.MachineOSConfig.Name, oldImage), Job: buildJob(b, true),
		Pods: []corev1.Pod{buildPod(b, t0.Add(time.Minute), corev1.PodFailed, corev1.ContainerState{
			Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", Message: msg}})},
		Now: t0.Add(10 * time.Minute),
	}
}

func stuckBuilding(b *mcfgv1.MachineOSBuild) diagnose.BuildSnapshot {
	return diagnose.BuildSnapshot{
		Build: b, Config: layeredConfig(b.Spec.MachineOSConfig.Name, oldImage), Job: buildJob(b, false),
		Pods: []corev1.Pod{buildPod(b, t0.Add(time.Minute), corev1.PodRunning, corev1.ContainerState{
			Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(t0.Add(time.Minute))}})},
		Log: "STEP 1/5: FROM configs AS final\nSTEP 2/5: COPY ./repos /etc/yum.repos.d/\nSTEP 3/5: RUN dnf install -y big-package\n",
		Now: t0.Add(2*time.Hour + 11*time.Minute),
	}
}

func interrupted(b *mcfgv1.MachineOSBuild) diagnose.BuildSnapshot {
	return diagnose.BuildSnapshot{Build: b, Config: layeredConfig(b.Spec.MachineOSConfig.Name, oldImage), Now: t0.Add(10 * time.Minute)}
}

// poolNode is a node of a fixture pool, as the machine-config-daemon annotates it.
func poolNode(name, desired, current, state, reason string) diagnose.NodeInfo {
	a := map[string]string{mco.AnnotationDesiredImage: desired, mco.AnnotationCurrentImage: current, mco.AnnotationState: state}
	if reason != "" {
		a[mco.AnnotationReason] = reason
	}
	return diagnose.NodeInfo{Name: name, Annotations: a}
}

// layeredPool is the snapshot of a pool whose build of target succeeded at t0, with nodes a, b and c.
func layeredPool(p *mcfgv1.MachineConfigPool, now time.Time, b, c diagnose.NodeInfo) diagnose.PoolSnapshot {
	build := &mcfgv1.MachineOSBuild{ObjectMeta: metav1.ObjectMeta{Name: p.Name + "-0a1b2c3d4e5f60718293a4b5c6d7e8f9"}}
	build.Spec.MachineOSConfig.Name = p.Name
	build.Status.DigestedImagePushSpec = mcfgv1.ImageDigestFormat(target)
	build.Status.BuildEnd = &metav1.Time{Time: t0.Add(-10 * time.Minute)}
	build.Status.Conditions = []metav1.Condition{{Type: string(mcfgv1.MachineOSBuildSucceeded), Status: metav1.ConditionTrue,
		Reason: "Ready", Message: "Build Ready", LastTransitionTime: metav1.NewTime(t0.Add(-10 * time.Minute))}}
	return diagnose.PoolSnapshot{
		Pool: p, Config: layeredConfig(p.Name, target), LatestBuild: build,
		Nodes: []diagnose.NodeInfo{poolNode(p.Name+"-node-a", target, target, mco.StateDone, ""), b, c},
		Now:   now,
	}
}

func nodePullRefused(p *mcfgv1.MachineConfigPool) diagnose.PoolSnapshot {
	return layeredPool(p, t0.Add(20*time.Minute),
		poolNode(p.Name+"-node-b", target, oldImage, mco.StateDegraded, "failed to update OS to "+target+" after retries: "+
			"error running rpm-ostree rebase --experimental ostree-unverified-registry:"+target+": error: Creating importer: "+
			"failed to invoke method OpenImage: reading manifest sha256:9f86d081 in quay.io/acme/os: unauthorized: access to the requested resource is not authorized: exit status 1"),
		poolNode(p.Name+"-node-c", oldImage, oldImage, mco.StateDone, ""))
}

func stalledRollout(p *mcfgv1.MachineConfigPool) diagnose.PoolSnapshot {
	s := layeredPool(p, t0.Add(45*time.Minute),
		poolNode(p.Name+"-node-b", target, oldImage, mco.StateDone, ""),
		poolNode(p.Name+"-node-c", oldImage, oldImage, mco.StateDone, ""))
	s.Previous = diagnose.Progress{UpdatedMachineCount: 1, Since: t0, Image: target}
	return s
}

func pausedRollout(p *mcfgv1.MachineConfigPool) diagnose.PoolSnapshot {
	return layeredPool(p, t0.Add(20*time.Minute),
		poolNode(p.Name+"-node-b", oldImage, oldImage, mco.StateDone, ""),
		poolNode(p.Name+"-node-c", oldImage, oldImage, mco.StateDone, ""))
}

// configSnapshot is what the MachineOSConfig controller gathers for c: its pool (paused or not) and its current
// build (the one its annotation names) in the given condition, the operator and its build controller unknown.
func configSnapshot(c *mcfgv1.MachineOSConfig, now time.Time, paused bool, build mcfgv1.BuildProgress) diagnose.ConfigSnapshot {
	pool := &mcfgv1.MachineConfigPool{ObjectMeta: metav1.ObjectMeta{Name: c.Spec.MachineConfigPool.Name}}
	pool.Spec.Paused = paused
	current := &mcfgv1.MachineOSBuild{ObjectMeta: metav1.ObjectMeta{Name: c.Annotations[mco.AnnotationCurrentBuild]}}
	current.Spec.MachineOSConfig.Name = c.Name
	current.Status.Conditions = []metav1.Condition{{Type: string(build), Status: metav1.ConditionTrue, Reason: string(build),
		LastTransitionTime: metav1.NewTime(t0)}}
	return diagnose.ConfigSnapshot{Config: c, Pool: pool, CurrentBuild: current, Now: now}
}

func pushSecretDeleted(c *mcfgv1.MachineOSConfig) diagnose.ConfigSnapshot {
	return configSnapshot(c, t0.Add(time.Hour), false, mcfgv1.MachineOSBuildSucceeded)
}

func rebuildIgnored(c *mcfgv1.MachineOSConfig) diagnose.ConfigSnapshot {
	now := t0.Add(time.Hour)
	s := configSnapshot(c, now, false, mcfgv1.MachineOSBuildSucceeded)
	s.Previous.RebuildSince = now.Add(-15 * time.Minute)
	return s
}

func poolPausedWhileBuilding(c *mcfgv1.MachineOSConfig) diagnose.ConfigSnapshot {
	return configSnapshot(c, t0.Add(time.Hour), true, mcfgv1.MachineOSBuilding)
}

// fixtureCluster answers the admission rules for the MachineOSConfig fixtures: the Secrets they name exist and hold
// credentials for quay.io, but the one deleted; so does the cluster pull secret; every pool exists, and registries
// are not probed.
type fixtureCluster struct {
	*validatorstest.Cluster
	deleted string
}

func (c fixtureCluster) MCOSecret(_ context.Context, name string) (*corev1.Secret, error) {
	if name == c.deleted {
		return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, name)
	}
	return dockerSecret(mco.Namespace, name), nil
}

func (fixtureCluster) ClusterPullSecret(context.Context) (*corev1.Secret, error) {
	return dockerSecret(mco.ClusterPullSecretNamespace, mco.ClusterPullSecretName), nil
}

func (fixtureCluster) MachineConfigPool(_ context.Context, name string) (*mcfgv1.MachineConfigPool, error) {
	return &mcfgv1.MachineConfigPool{ObjectMeta: metav1.ObjectMeta{Name: name}}, nil
}

// dockerSecret holds a credential for quay.io.
func dockerSecret(namespace, name string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{"quay.io":{"auth":"cm9ib3Q6c2VjcmV0"}}}`)},
	}
}
