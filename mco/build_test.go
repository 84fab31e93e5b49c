package mco

import (
	"testing"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

func TestCurrentBuildName(t *testing.T) {
	for _, tc := range []struct {
		name        string
		annotations map[string]string
		status      *mcfgv1.ObjectReference
		want        string
	}{
		{"the annotation the MCO sets when a build starts wins", map[string]string{AnnotationCurrentBuild: "worker-new"}, &mcfgv1.ObjectReference{Name: "worker-old"}, "worker-new"},
		{"else the last successful build (a config seeded at install time)", nil, &mcfgv1.ObjectReference{Name: "worker-old"}, "worker-old"},
		{"an empty annotation is no annotation", map[string]string{AnnotationCurrentBuild: ""}, &mcfgv1.ObjectReference{Name: "worker-old"}, "worker-old"},
		{"no build yet", nil, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &mcfgv1.MachineOSConfig{ObjectMeta: metav1.ObjectMeta{Annotations: tc.annotations}}
			c.Status.MachineOSBuild = tc.status
			if got := CurrentBuildName(c); got != tc.want {
				t.Errorf("CurrentBuildName = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestPodsNewestFirst(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	pod := func(name string, created time.Time, phase corev1.PodPhase) corev1.Pod {
		return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(created)}, Status: corev1.PodStatus{Phase: phase}}
	}
	for _, tc := range []struct {
		name string
		pods []corev1.Pod
		want []string
	}{
		{"newest creation first", []corev1.Pod{pod("a", t0, corev1.PodFailed), pod("b", t0.Add(time.Minute), corev1.PodRunning)}, []string{"b", "a"}},
		{"in the same second the Job's replacement of a finished pod is newer", []corev1.Pod{pod("z", t0, corev1.PodRunning), pod("a", t0, corev1.PodFailed)}, []string{"z", "a"}},
		{"finished first in the input changes nothing", []corev1.Pod{pod("a", t0, corev1.PodFailed), pod("z", t0, corev1.PodRunning)}, []string{"z", "a"}},
		{"names break the remaining ties, so every reader picks the same pod", []corev1.Pod{pod("a", t0, corev1.PodRunning), pod("b", t0, corev1.PodRunning)}, []string{"b", "a"}},
		{"none", nil, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := []string{}
			for _, p := range PodsNewestFirst(tc.pods) {
				got = append(got, p.Name)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
			if n := NewestPod(tc.pods); (n == nil) != (len(tc.want) == 0) || (n != nil && n.Name != tc.want[0]) {
				t.Errorf("NewestPod = %v, want the first of %v", n, tc.want)
			}
		})
	}
}

func TestJobNames(t *testing.T) {
	b := &mcfgv1.MachineOSBuild{ObjectMeta: metav1.ObjectMeta{Name: "worker-0123456789abcdef0123456789abcdef"}}
	if got := BuildJobName(b); got != "build-worker-0123456789abcdef0123456789abcdef" {
		t.Errorf("BuildJobName = %q", got)
	}
	if got := JobNameLength("worker"); got != len(BuildJobName(b)) {
		t.Errorf("JobNameLength(worker) = %d, want the length of %q", got, BuildJobName(b))
	}
	if name, ok := BuildNameOfJob(BuildJobName(b)); !ok || name != b.Name {
		t.Errorf("BuildNameOfJob = %q, %v", name, ok)
	}
	if _, ok := BuildNameOfJob("build-"); ok {
		t.Error("a Job named only by the prefix belongs to no build")
	}
	b.Status.Builder = &mcfgv1.MachineOSBuilderReference{Job: &mcfgv1.ObjectReference{Name: "recorded"}}
	if got := BuildJobName(b); got != "recorded" {
		t.Errorf("BuildJobName with status.builder.job = %q, want the recorded name", got)
	}
	if longest := validation.LabelValueMaxLength - JobNameLength(""); longest != 24 {
		t.Errorf("longest config name whose Job fits a label = %d, want 24 (README, rule build-name-length)", longest)
	}
}
