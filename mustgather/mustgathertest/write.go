// Package mustgathertest writes what a cluster holds in the layout `oc adm inspect` gives it, so that tests can run
// `ocl-guard status --from DIR` on the objects they run live status on.
package mustgathertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/ocl-guard/ocl-guard/mustgather"
)

// Options say what Write writes besides the objects.
type Options struct {
	// Namespaces are inspected (oc adm inspect ns/<ns>); the namespaced kinds of other namespaces are not written.
	Namespaces []string
	// Logs are containers' logs by "<namespace>/<pod>/<container>", written with a timestamp before each line as
	// inspect asks the kubelet for them.
	Logs map[string]string
	// GatheredAt is written to the timestamp file when set.
	GatheredAt time.Time
}

// Write writes every object of mustgather.Kinds that c holds into dir as `oc adm inspect` does (openshift/oc
// pkg/cli/admin/inspect): each cluster-scoped object in cluster-scoped-resources/<group>/<resource>/<name>.yaml,
// each namespace's objects of a kind in namespaces/<ns>/<group>/<resource>.yaml, each pod again in
// namespaces/<ns>/pods/<pod>/<pod>.yaml, and Secrets with their data elided (inspect/secret.go elideSecret).
func Write(ctx context.Context, c client.Reader, scheme *runtime.Scheme, dir string, opts Options) error {
	for _, k := range mustgather.Kinds() {
		listGVK := k.GVK.GroupVersion().WithKind(k.GVK.Kind + "List")
		obj, err := scheme.New(listGVK)
		if err != nil {
			return err
		}
		list := obj.(client.ObjectList)
		if !k.Namespaced {
			if err := c.List(ctx, list); err != nil {
				return fmt.Errorf("listing %s: %w", k.Resource, err)
			}
			items, err := itemsOf(list, k)
			if err != nil {
				return err
			}
			for _, item := range items {
				file := filepath.Join(dir, "cluster-scoped-resources", k.GroupDir(), k.Resource, item.GetName()+".yaml")
				if err := writeYAML(file, item); err != nil {
					return err
				}
			}
			continue
		}
		for _, ns := range opts.Namespaces {
			if err := writeNamespace(dir, ns); err != nil {
				return err
			}
			if err := c.List(ctx, list, client.InNamespace(ns)); err != nil {
				return fmt.Errorf("listing %s in %s: %w", k.Resource, ns, err)
			}
			items, err := itemsOf(list, k)
			if err != nil {
				return err
			}
			out := []any{}
			for _, item := range items {
				if s, ok := item.(*corev1.Secret); ok {
					elide(s)
				}
				out = append(out, item)
				if k.Resource == "pods" {
					if err := writePod(dir, item.(*corev1.Pod), opts.Logs); err != nil {
						return err
					}
				}
			}
			file := filepath.Join(dir, "namespaces", ns, k.GroupDir(), k.Resource+".yaml")
			if err := writeYAML(file, map[string]any{"apiVersion": "v1", "kind": "List", "items": out}); err != nil {
				return err
			}
		}
	}
	if !opts.GatheredAt.IsZero() {
		// inspect.go logTimestamp: time.Now().String() when it starts and when it ends.
		stamp := opts.GatheredAt.Add(-time.Minute).String() + "\n" + opts.GatheredAt.String() + "\n"
		return os.WriteFile(filepath.Join(dir, "timestamp"), []byte(stamp), 0o644)
	}
	return nil
}

// itemsOf returns a list's items with their apiVersion and kind, as oc prints them, without managedFields.
func itemsOf(list client.ObjectList, k mustgather.Kind) ([]client.Object, error) {
	objs, err := meta.ExtractList(list)
	if err != nil {
		return nil, err
	}
	var items []client.Object
	for _, o := range objs {
		item := o.(client.Object)
		item.GetObjectKind().SetGroupVersionKind(k.GVK)
		item.SetManagedFields(nil)
		items = append(items, item)
	}
	slices.SortFunc(items, func(a, b client.Object) int { return strings.Compare(a.GetName(), b.GetName()) })
	return items, nil
}

// elide replaces each value of a Secret by its length, as inspect does (inspect/secret.go elideSecret).
func elide(s *corev1.Secret) {
	for key, value := range s.Data {
		if key == "tls.crt" || key == "ca.crt" || key == "service-ca.crt" {
			continue
		}
		s.Data[key] = []byte(fmt.Sprintf("%d bytes long", len(value)))
	}
}

func writeNamespace(dir, ns string) error {
	file := filepath.Join(dir, "namespaces", ns, ns+".yaml")
	if _, err := os.Stat(file); err == nil {
		return nil
	}
	return writeYAML(file, &corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}, ObjectMeta: metav1.ObjectMeta{Name: ns}})
}

// writePod writes namespaces/<ns>/pods/<pod>/<pod>.yaml and, for each container given a log,
// <container>/<container>/logs/current.log (inspect/pod.go).
func writePod(dir string, pod *corev1.Pod, logs map[string]string) error {
	podDir := filepath.Join(dir, "namespaces", pod.Namespace, "pods", pod.Name)
	if err := writeYAML(filepath.Join(podDir, pod.Name+".yaml"), pod); err != nil {
		return err
	}
	var containers []string
	for _, c := range append(slices.Clone(pod.Spec.InitContainers), pod.Spec.Containers...) {
		containers = append(containers, c.Name)
	}
	for _, c := range pod.Status.InitContainerStatuses {
		containers = append(containers, c.Name)
	}
	for _, c := range containers {
		text, ok := logs[pod.Namespace+"/"+pod.Name+"/"+c]
		if !ok {
			continue
		}
		var b strings.Builder
		stamp := time.Date(2026, 12, 1, 11, 45, 0, 0, time.UTC)
		for i, line := range strings.SplitAfter(text, "\n") {
			if line != "" {
				b.WriteString(stamp.Add(time.Duration(i)*time.Millisecond).Format(time.RFC3339Nano) + " " + line)
			}
		}
		if err := writeFile(filepath.Join(podDir, c, c, "logs", "current.log"), []byte(b.String())); err != nil {
			return err
		}
	}
	return nil
}

func writeYAML(file string, v any) error {
	data, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return writeFile(file, data)
}

func writeFile(file string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	return os.WriteFile(file, data, 0o644)
}
