package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	configv1 "github.com/openshift/api/config/v1"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/config"
	"github.com/ocl-guard/ocl-guard/gather"
	"github.com/ocl-guard/ocl-guard/lookups"
	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/mustgather"
	"github.com/ocl-guard/ocl-guard/mustgather/mustgathertest"
	"github.com/ocl-guard/ocl-guard/status"
	"github.com/ocl-guard/ocl-guard/test/golden"
)

// gatheredAt is when the fixtures' must-gather ended.
var gatheredAt = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// The build log the kubelet kept: dnf names the package it could not find, which the termination message does not.
const packageNotFoundLog = `STEP 1/3: FROM quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:1111 AS configs
STEP 2/3: RUN dnf install -y tmux tmuxx && dnf clean all
Updating Subscription Management repositories.
No match for argument: tmuxx
Error: Unable to find a match: tmuxx
subprocess exited with status 1
Error: building at STEP "RUN dnf install -y tmux tmuxx && dnf clean all": exit status 1
`

// fromFixture is a cluster with two layered pools as a must-gather would find it: "worker", whose rebuild failed on
// a package the log names, while its nodes run the previous image; and "infra", healthy.
func fromFixture() []client.Object {
	const (
		oldImage = "quay.io/acme/os@sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
		image    = "quay.io/acme/os@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	)
	auth := base64.StdEncoding.EncodeToString([]byte("robot:s3cr3t-never-shown"))
	objects := []client.Object{
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "push", Namespace: mco.Namespace}, Type: corev1.SecretTypeDockerConfigJson,
			Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{"quay.io":{"auth":"` + auth + `"}}}`)}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: mco.ClusterPullSecretName, Namespace: mco.ClusterPullSecretNamespace}, Type: corev1.SecretTypeDockerConfigJson,
			Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{"registry.redhat.io":{"auth":"` + auth + `"}}}`)}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: mco.EntitlementSecretNamespace, Name: mco.EntitlementSecretName}},
		&configv1.Image{ObjectMeta: metav1.ObjectMeta{Name: lookups.ImageConfigName}},
	}
	start, end := metav1.NewTime(gatheredAt.Add(-20*time.Minute)), metav1.NewTime(gatheredAt.Add(-11*time.Minute))
	for _, p := range []struct {
		pool, build, image string
		failed             bool
	}{{"worker", "worker-5e1f", oldImage, true}, {"infra", "infra-77aa", image, false}} {
		pool := &mcfgv1.MachineConfigPool{
			ObjectMeta: metav1.ObjectMeta{Name: p.pool},
			Spec:       mcfgv1.MachineConfigPoolSpec{NodeSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"node-role.kubernetes.io/" + p.pool: ""}}},
			// Both pools' nodes all run their config's currentImagePullSpec: the MCO's node controller says so
			// (pkg/controller/node/status.go calculateStatus), whatever became of a later build.
			Status: mcfgv1.MachineConfigPoolStatus{MachineCount: 2, UpdatedMachineCount: 2, ReadyMachineCount: 2, Conditions: []mcfgv1.MachineConfigPoolCondition{
				{Type: mcfgv1.MachineConfigPoolUpdated, Status: corev1.ConditionTrue}, {Type: mcfgv1.MachineConfigPoolUpdating, Status: corev1.ConditionFalse}}},
		}
		mosc := &mcfgv1.MachineOSConfig{
			ObjectMeta: metav1.ObjectMeta{Name: p.pool, Generation: 1, CreationTimestamp: metav1.NewTime(gatheredAt.Add(-24 * time.Hour)),
				Annotations: map[string]string{mco.AnnotationCurrentBuild: p.build}},
			Spec: mcfgv1.MachineOSConfigSpec{
				MachineConfigPool:       mcfgv1.MachineConfigPoolReference{Name: p.pool},
				ImageBuilder:            mcfgv1.MachineOSImageBuilder{ImageBuilderType: "Job"},
				RenderedImagePushSecret: mcfgv1.ImageSecretObjectReference{Name: "push"},
				RenderedImagePushSpec:   "quay.io/acme/os:latest",
				Containerfile:           []mcfgv1.MachineOSContainerfile{{ContainerfileArch: mcfgv1.NoArch, Content: "FROM configs AS final\nRUN dnf install -y tmux tmuxx && dnf clean all\n"}},
			},
			Status: mcfgv1.MachineOSConfigStatus{ObservedGeneration: 1, CurrentImagePullSpec: mcfgv1.ImageDigestFormat(p.image)},
		}
		build := &mcfgv1.MachineOSBuild{
			ObjectMeta: metav1.ObjectMeta{Name: p.build, CreationTimestamp: start},
			Spec:       mcfgv1.MachineOSBuildSpec{MachineOSConfig: mcfgv1.MachineOSConfigReference{Name: p.pool}, RenderedImagePushSpec: mcfgv1.ImageTagFormat("quay.io/acme/os:" + p.build)},
			Status:     mcfgv1.MachineOSBuildStatus{BuildStart: &start, BuildEnd: &end},
		}
		// Reasons and messages of openshift/machine-config-operator pkg/apihelpers/machineosbuild.go.
		condition := metav1.Condition{Type: string(mcfgv1.MachineOSBuildSucceeded), Status: metav1.ConditionTrue, Reason: "Ready", Message: "Build Ready", LastTransitionTime: end}
		if p.failed {
			condition = metav1.Condition{Type: string(mcfgv1.MachineOSBuildFailed), Status: metav1.ConditionTrue, Reason: "Failed", Message: "Build Failed", LastTransitionTime: end}
			pool.Status.Conditions = append(pool.Status.Conditions, mcfgv1.MachineConfigPoolCondition{Type: mcfgv1.MachineConfigPoolImageBuildDegraded, Status: corev1.ConditionTrue, Reason: "BuildFailed",
				Message: "Failed to build OS image for pool worker (MachineOSBuild: worker-5e1f): Failed: Build Failed"})
			mosc.Status.MachineOSBuild = &mcfgv1.ObjectReference{Name: "worker-0a1b"}
		} else {
			build.Status.DigestedImagePushSpec = mcfgv1.ImageDigestFormat(p.image)
			mosc.Status.MachineOSBuild = &mcfgv1.ObjectReference{Name: p.build}
		}
		build.Status.Conditions = []metav1.Condition{condition}
		job := mco.BuildJobName(build)
		objects = append(objects, pool, mosc, build, &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: job, Namespace: mco.Namespace}})
		if p.failed {
			objects = append(objects, &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: job + "-x7k2p", Namespace: mco.Namespace, CreationTimestamp: start, Labels: map[string]string{mco.LabelJobName: job}},
				Spec:       corev1.PodSpec{InitContainers: []corev1.Container{{Name: mco.ImageBuildContainer}}, Containers: []corev1.Container{{Name: "create-digest-configmap"}}},
				Status: corev1.PodStatus{Phase: corev1.PodFailed, InitContainerStatuses: []corev1.ContainerStatus{{Name: mco.ImageBuildContainer,
					State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error",
						Message: `Error: building at STEP "RUN dnf install -y tmux tmuxx && dnf clean all": exit status 1`}}}}},
			})
		}
		for i := range 2 {
			objects = append(objects, &corev1.Node{ObjectMeta: metav1.ObjectMeta{
				Name: p.pool + "-" + string(rune('a'+i)), Labels: map[string]string{"node-role.kubernetes.io/" + p.pool: ""},
				Annotations: map[string]string{mco.AnnotationCurrentImage: p.image, mco.AnnotationDesiredImage: p.image, mco.AnnotationState: mco.StateDone},
			}})
		}
	}
	return objects
}

// failedBuildLogs are the fixture's logs, as recorded by the kubelet, by "<namespace>/<pod>/<container>".
func failedBuildLogs() map[string]string {
	return map[string]string{mco.Namespace + "/build-worker-5e1f-x7k2p/" + mco.ImageBuildContainer: packageNotFoundLog}
}

// writeFixtureDump writes the fixture out as oc adm inspect would, and returns the directory and the client it was
// written from.
func writeFixtureDump(t *testing.T) (string, client.Client) {
	t.Helper()
	scheme, err := app.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(fromFixture()...).Build()
	dir := t.TempDir()
	if err := mustgathertest.Write(context.Background(), c, scheme, dir, mustgathertest.Options{
		Namespaces: mustgather.StatusNamespaces(status.InstallNamespace), Logs: failedBuildLogs(), GatheredAt: gatheredAt,
	}); err != nil {
		t.Fatal(err)
	}
	return dir, c
}

// The offline report of a must-gather: golden text and JSON, the build's cause read from the log file, exit 1.
func TestStatusFromGolden(t *testing.T) {
	dir, _ := writeFixtureDump(t)
	for _, format := range []string{"text", "json"} {
		var out, errOut bytes.Buffer
		code, err := runStatus([]string{"--from", dir, "-o", format}, &out, &errOut)
		if err != nil || code != 1 {
			t.Fatalf("-o %s: exit %d, %v; stderr:\n%s", format, code, err, errOut.String())
		}
		got := strings.ReplaceAll(out.String()+errOut.String(), dir, "DIR")
		// .golden, not .json: `check -f testdata` reads every manifest there.
		golden.Check(t, filepath.Join("testdata", "status-from."+format+".golden"), []byte(got))
		if strings.Contains(got, "s3cr3t") || strings.Contains(got, base64.StdEncoding.EncodeToString([]byte("robot:s3cr3t-never-shown"))) {
			t.Error("a credential leaked into the output")
		}
	}
}

// The offline report says what live status says of the same objects, apart from the rules it cannot judge.
func TestStatusFromEqualsLive(t *testing.T) {
	dir, c := writeFixtureDump(t)
	settings := config.Defaults()
	live, err := status.Collect(context.Background(), c, status.Options{
		Env: app.RuleEnv(settings, &lookups.Cluster{Cached: c, Direct: c}, nil), Checker: settings.Checker, Now: gatheredAt,
		Logs: gather.LogOptions{Logs: recordedLogs(failedBuildLogs()), Limit: settings.Checker.LogLimitBytes},
	})
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code, err := runStatus([]string{"--from", dir, "-o", "json"}, &out, &errOut); err != nil || code != 1 {
		t.Fatalf("exit %d, %v: %s", code, err, errOut.String())
	}
	var offline []status.Report
	if err := json.Unmarshal(out.Bytes(), &offline); err != nil {
		t.Fatal(err)
	}
	// Through JSON, as the offline reports came.
	var liveJSON bytes.Buffer
	if err := status.WriteJSON(&liveJSON, live); err != nil {
		t.Fatal(err)
	}
	live = nil
	if err := json.Unmarshal(liveJSON.Bytes(), &live); err != nil {
		t.Fatal(err)
	}
	wantLive, gotOffline := mustgathertest.WithoutNotJudged(live, offline)
	if diff := cmp.Diff(wantLive, gotOffline); diff != "" {
		t.Errorf("the offline report differs from the live one (-live +offline):\n%s", diff)
	}
	if !strings.Contains(out.String(), "tmuxx") {
		t.Error("the offline report does not name the package the log names")
	}
}

// recordedLogs is the kubelet's side of the pods/log subresource for the live run: the fake client has none.
type recordedLogs map[string]string

func (r recordedLogs) TailLog(_ context.Context, namespace, pod, container string, _ int64) (string, error) {
	return r[namespace+"/"+pod+"/"+container], nil
}

// The README shows the offline report of the failed build: the golden file's block, kept in step here.
func TestReadmeShowsTheOfflineReport(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	golden, err := os.ReadFile("testdata/status-from.text.golden")
	if err != nil {
		t.Fatal(err)
	}
	start := bytes.Index(golden, []byte("pool worker: PROBLEM"))
	if start < 0 {
		t.Fatal("testdata/status-from.text.golden has no pool worker")
	}
	block := golden[start:]
	if end := bytes.Index(block, []byte("\n  next: ")); end >= 0 {
		if nl := bytes.IndexByte(block[end+1:], '\n'); nl >= 0 {
			block = block[:end+1+nl+1]
		}
	}
	if !bytes.Contains(readme, block) {
		t.Errorf("README.md does not show the pool worker block of cmd/ocl-guard/testdata/status-from.text.golden: paste it into the `status --from` section:\n%s", block)
	}
}

// A directory that is no dump, or one without MachineOSConfigs (a must-gather from before openshift/must-gather PR
// #463), is a usage error that says so, not a report of "no layered pool"; a damaged file is a line on stderr.
func TestStatusFromErrors(t *testing.T) {
	withoutConfigs := t.TempDir()
	if err := os.MkdirAll(filepath.Join(withoutConfigs, "quay-io-openshift-must-gather", "cluster-scoped-resources", "core", "nodes"), 0o755); err != nil {
		t.Fatal(err)
	}
	damaged, _ := writeFixtureDump(t)
	pods := filepath.Join(damaged, "namespaces", mco.Namespace, "core", "pods.yaml")
	if err := os.WriteFile(pods, []byte("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
		inErr    string
	}{
		{"not a dump", []string{"--from", t.TempDir()}, 2, "neither a must-gather nor an oc adm inspect directory"},
		{"no such directory", []string{"--from", filepath.Join(t.TempDir(), "gone")}, 2, "no such file or directory"},
		{"no MachineOSConfigs gathered", []string{"--from", withoutConfigs}, 2, "the must-gather holds no machineosconfigs.machineconfiguration.openshift.io"},
		{"a pool that is not layered", []string{"--from", damaged, "infra2"}, 2, "pool infra2 is not layered"},
		// The report goes on: each pod is in its own directory too (pods/<pod>/<pod>.yaml).
		{"a damaged file", []string{"--from", damaged}, 1, pods + ":6: did not find expected node content"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code, err := runStatus(tc.args, &out, &errOut)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d", code, tc.wantCode)
			}
			if got := errOut.String() + fmt.Sprint(err); !strings.Contains(got, tc.inErr) {
				t.Errorf("stderr and error %q lack %q", got, tc.inErr)
			}
		})
	}
}
