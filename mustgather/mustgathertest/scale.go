package mustgathertest

import (
	"context"
	"fmt"
	"strings"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/mustgather"
)

// The scale must-gather, for benchmarks (BenchmarkStatusFrom, make bench): layered pools of 100 nodes each, 20
// builds per pool, each build with its Job, its pod and a 256 KiB log; each pool's current build failed, so its log
// is read. 1,000 nodes are 10 pools and 200 builds.
const (
	scaleNodesPerPool   = 100
	scaleBuildsPerPool  = 20
	scaleLogBytes       = 256 << 10
	scaleImagesPerNode  = 30
	scaleDigestedPrefix = "quay.io/acme/os@sha256:"
)

// WriteScale writes the scale must-gather of about nodes nodes (whole pools of 100, at least one) into dir, in the
// layout Write writes, gathered at gatheredAt. installNamespace is ocl-guard's, inspected as status --from expects.
func WriteScale(dir string, nodes int, scheme *runtime.Scheme, installNamespace string, gatheredAt time.Time) error {
	objects, logs := scaleObjects(max(1, nodes/scaleNodesPerPool), gatheredAt)
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objects...).Build()
	return Write(context.Background(), c, scheme, dir, Options{
		Namespaces: mustgather.StatusNamespaces(installNamespace), Logs: logs, GatheredAt: gatheredAt,
	})
}

func scaleObjects(pools int, gatheredAt time.Time) ([]client.Object, map[string]string) {
	var objects []client.Object
	logs := map[string]string{}
	digest := strings.Repeat("ab", 32)
	start, end := metav1.NewTime(gatheredAt.Add(-20*time.Minute)), metav1.NewTime(gatheredAt.Add(-11*time.Minute))
	objects = append(objects, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "push", Namespace: mco.Namespace}, Type: corev1.SecretTypeDockerConfigJson,
		Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{"quay.io":{"auth":"eDp5"}}}`)}})
	for p := range pools {
		pool := fmt.Sprintf("pool-%02d", p)
		role := "node-role.kubernetes.io/" + pool
		current := fmt.Sprintf("%s-%04d", pool, scaleBuildsPerPool-1)
		objects = append(objects,
			&mcfgv1.MachineConfigPool{ObjectMeta: metav1.ObjectMeta{Name: pool},
				Spec:   mcfgv1.MachineConfigPoolSpec{NodeSelector: &metav1.LabelSelector{MatchLabels: map[string]string{role: ""}}},
				Status: mcfgv1.MachineConfigPoolStatus{MachineCount: scaleNodesPerPool, UpdatedMachineCount: scaleNodesPerPool}},
			&mcfgv1.MachineOSConfig{ObjectMeta: metav1.ObjectMeta{Name: pool, Generation: 1, Annotations: map[string]string{mco.AnnotationCurrentBuild: current}},
				Spec: mcfgv1.MachineOSConfigSpec{MachineConfigPool: mcfgv1.MachineConfigPoolReference{Name: pool},
					ImageBuilder: mcfgv1.MachineOSImageBuilder{ImageBuilderType: "Job"}, RenderedImagePushSecret: mcfgv1.ImageSecretObjectReference{Name: "push"},
					RenderedImagePushSpec: "quay.io/acme/os:latest",
					Containerfile:         []mcfgv1.MachineOSContainerfile{{ContainerfileArch: mcfgv1.NoArch, Content: "FROM configs AS final\nRUN dnf install -y tmuxx\n"}}},
				Status: mcfgv1.MachineOSConfigStatus{ObservedGeneration: 1, CurrentImagePullSpec: mcfgv1.ImageDigestFormat(scaleDigestedPrefix + digest)}})
		for n := range scaleNodesPerPool {
			node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-node-%03d", pool, n),
				Labels: map[string]string{role: "", "kubernetes.io/os": "linux", "topology.kubernetes.io/zone": "zone-a"},
				Annotations: map[string]string{mco.AnnotationCurrentImage: scaleDigestedPrefix + digest, mco.AnnotationDesiredImage: scaleDigestedPrefix + digest,
					mco.AnnotationState: mco.StateDone}}}
			// A node's status lists the images it holds: most of a real node's YAML.
			for i := range scaleImagesPerNode {
				node.Status.Images = append(node.Status.Images, corev1.ContainerImage{SizeBytes: int64(400_000_000 + i),
					Names: []string{fmt.Sprintf("quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:%064d", i), fmt.Sprintf("registry.example.com/image-%d:latest", i)}})
			}
			objects = append(objects, node)
		}
		for b := range scaleBuildsPerPool {
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
			for log.Len() < scaleLogBytes-200 {
				fmt.Fprintf(&log, "Copying blob sha256:%s done %d\n", digest, log.Len())
			}
			log.WriteString("No match for argument: tmuxx\nError: Unable to find a match: tmuxx\n")
			logs[mco.Namespace+"/"+pod.Name+"/"+mco.ImageBuildContainer] = log.String()
		}
	}
	return objects, logs
}
