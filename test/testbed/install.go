package testbed

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/ocl-guard/ocl-guard/config"
)

// InstallSettings creates, in namespace, what `oc apply -k config/default` creates for ocl-guard's settings: its
// Deployment and the ConfigMap generated from config/manager/settings.example.yaml (under kustomize's hashed name),
// with settings as the content of that ConfigMap. Nothing runs the Deployment (a control plane without kubelets):
// it tells `ocl-guard status` which settings the checker runs with, as on a cluster. The ConfigMap is found
// without following the Deployment's volume, so that the code that does follow it is tested against this.
func InstallSettings(ctx context.Context, c client.Client, namespace string, settings config.Settings) error {
	data, err := yaml.Marshal(settings)
	if err != nil {
		return err
	}
	if back, err := config.Parse(data); err != nil || !reflect.DeepEqual(back, settings) {
		return fmt.Errorf("the settings do not survive YAML (%v):\n%s", err, data)
	}
	objs, err := Render(filepath.Join(RepoRoot(), "config", "default"))
	if err != nil {
		return err
	}
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	var created int
	for _, u := range objs {
		var obj client.Object
		switch u.GetKind() {
		case "Deployment":
			obj = &appsv1.Deployment{}
		case "ConfigMap":
			obj = &corev1.ConfigMap{}
		default:
			continue
		}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, obj); err != nil {
			return err
		}
		if cm, ok := obj.(*corev1.ConfigMap); ok {
			for key := range cm.Data {
				cm.Data[key] = string(data)
			}
		}
		obj.SetNamespace(namespace)
		if err := c.Create(ctx, obj); err != nil {
			return fmt.Errorf("creating %s %s/%s: %w", u.GetKind(), namespace, obj.GetName(), err)
		}
		created++
	}
	if created != 2 {
		return fmt.Errorf("config/default rendered %d Deployments and ConfigMaps, want the Deployment and its settings", created)
	}
	return nil
}
