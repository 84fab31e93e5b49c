package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/mustgather"
	"github.com/ocl-guard/ocl-guard/mustgather/mustgathertest"
	"github.com/ocl-guard/ocl-guard/status"
)

var benchDump = flag.String("bench-dump", "", "write BenchmarkStatusFrom's must-gather into this directory and keep it (to time the binary on it)")

// The benchmark's must-gather: 10 layered pools of 100 nodes each (1,000 nodes), 20 builds per pool (200 builds),
// each with its Job, its pod and a 256 KiB log; each pool's current build failed, so its log is read.
const (
	benchPools          = 10
	benchNodesPerPool   = 100
	benchBuildsPerPool  = 20
	benchLogBytes       = 256 << 10
	benchImagesPerNode  = 30
	benchDigestedPrefix = "quay.io/acme/os@sha256:"
)

func benchObjects() ([]client.Object, map[string]string) {
	var objects []client.Object
	logs := map[string]string{}
	digest := strings.Repeat("ab", 32)
	start, end := metav1.NewTime(gatheredAt.Add(-20*time.Minute)), metav1.NewTime(gatheredAt.Add(-11*time.Minute))
	objects = append(objects, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "push", Namespace: mco.Namespace}, Type: corev1.SecretTypeDockerConfigJson,
		Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{"quay.io":{"auth":"eDp5"}}}`)}})
	for p := range benchPools {
		pool := fmt.Sprintf("pool-%02d", p)
		role := "node-role.kubernetes.io/" + pool
		current := fmt.Sprintf("%s-%04d", pool, benchBuildsPerPool-1)
		objects = append(objects,
			&mcfgv1.MachineConfigPool{ObjectMeta: metav1.ObjectMeta{Name: pool},
				Spec:   mcfgv1.MachineConfigPoolSpec{NodeSelector: &metav1.LabelSelector{MatchLabels: map[string]string{role: ""}}},
				Status: mcfgv1.MachineConfigPoolStatus{MachineCount: benchNodesPerPool, UpdatedMachineCount: benchNodesPerPool}},
			&mcfgv1.MachineOSConfig{ObjectMeta: metav1.ObjectMeta{Name: pool, Generation: 1, Annotations: map[string]string{mco.AnnotationCurrentBuild: current}},
				Spec: mcfgv1.MachineOSConfigSpec{MachineConfigPool: mcfgv1.MachineConfigPoolReference{Name: pool},
					ImageBuilder: mcfgv1.MachineOSImageBuilder{ImageBuilderType: "Job"}, RenderedImagePushSecret: mcfgv1.ImageSecretObjectReference{Name: "push"},
					RenderedImagePushSpec: "quay.io/acme/os:latest",
					Containerfile:         []mcfgv1.MachineOSContainerfile{{ContainerfileArch: mcfgv1.NoArch, Content: "FROM configs AS final\nRUN dnf install -y tmuxx\n"}}},
				Status: mcfgv1.MachineOSConfigStatus{ObservedGeneration: 1, CurrentImagePullSpec: mcfgv1.ImageDigestFormat(benchDigestedPrefix + digest)}})
		for n := range benchNodesPerPool {
			node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-node-%03d", pool, n),
				Labels: map[string]string{role: "", "kubernetes.io/os": "linux", "topology.kubernetes.io/zone": "zone-a"},
				Annotations: map[string]string{mco.AnnotationCurrentImage: benchDigestedPrefix + digest, mco.AnnotationDesiredImage: benchDigestedPrefix + digest,
					mco.AnnotationState: mco.StateDone}}}
			// A node's status lists the images it holds: most of a real node's YAML.
			for i := range benchImagesPerNode {
				node.Status.Images = append(node.Status.Images, corev1.ContainerImage{SizeBytes: int64(400_000_000 + i),
					Names: []string{fmt.Sprintf("quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:%064d", i), fmt.Sprintf("registry.example.com/image-%d:latest", i)}})
			}
			objects = append(objects, node)
		}
		for b := range benchBuildsPerPool {
			name := fmt.Sprintf("%s-%04d", pool, b)
			build := &mcfgv1.MachineOSBuild{ObjectMeta: metav1.ObjectMeta{Name: name},
				Spec: mcfgv1.MachineOSBuildSpec{MachineOSConfig: mcfgv1.MachineOSConfigReference{Name: pool}},
				Status: mcfgv1.MachineOSBuildStatus{BuildStart: &start, BuildEnd: &end, Conditions: []metav1.Condition{{Type: string(mcfgv1.MachineOSBuildFailed),
					Status: metav1.ConditionTrue, Reason: "Failed", Message: "Build Failed", LastTransitionTime: end}}}}
			job := mco.BuildJobName(build)
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: job + "-x7k2p", Namespace: mco.Namespace, CreationTimestamp: start, Labels: map[string]string{mco.LabelJobName: job}},
				Spec: corev1.PodSpec{InitContainers: []corev1.Container{{Name: mco.ImageBuildContainer}}},
				Status: corev1.PodStatus{Phase: corev1.PodFailed, InitContainerStatuses: []corev1.ContainerStatus{{Name: mco.ImageBuildContainer,
					State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", Message: `Error: building at STEP "RUN dnf install -y tmuxx": exit status 1`}}}}}}
			objects = append(objects, build, &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: job, Namespace: mco.Namespace}}, pod)
			var log strings.Builder
			for log.Len() < benchLogBytes-200 {
				fmt.Fprintf(&log, "Copying blob sha256:%s done %d\n", digest, log.Len())
			}
			log.WriteString("No match for argument: tmuxx\nError: Unable to find a match: tmuxx\n")
			logs[mco.Namespace+"/"+pod.Name+"/"+mco.ImageBuildContainer] = log.String()
		}
	}
	return objects, logs
}

func writeBenchDump(b *testing.B) string {
	b.Helper()
	scheme, err := app.Scheme()
	if err != nil {
		b.Fatal(err)
	}
	objects, logs := benchObjects()
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objects...).Build()
	dir := *benchDump
	if dir == "" {
		dir = b.TempDir()
	}
	if err := mustgathertest.Write(context.Background(), c, scheme, dir, mustgathertest.Options{
		Namespaces: mustgather.StatusNamespaces(status.InstallNamespace), Logs: logs, GatheredAt: gatheredAt,
	}); err != nil {
		b.Fatal(err)
	}
	return dir
}

// BenchmarkStatusFrom is `ocl-guard status --from DIR -o json` on a must-gather of 1,000 nodes and 200 builds with
// their logs: load, gather, judge, render. peak-heap-MiB is the largest live heap seen while it ran (sampled).
func BenchmarkStatusFrom(b *testing.B) {
	dir := writeBenchDump(b)
	var peak atomic.Uint64
	stop := make(chan struct{})
	defer close(stop)
	go sampleHeap(&peak, stop)
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		code, err := runStatus([]string{"--from", dir, "-o", "json"}, io.Discard, io.Discard)
		if err != nil || code != 1 {
			b.Fatalf("exit %d, %v", code, err)
		}
	}
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
	if *benchDump != "" {
		fmt.Fprintf(os.Stderr, "must-gather kept in %s\n", dir)
	}
}

// sampleHeap records the largest heap (objects in use and not yet swept) every millisecond until stop.
func sampleHeap(peak *atomic.Uint64, stop <-chan struct{}) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
		}
	}
}
