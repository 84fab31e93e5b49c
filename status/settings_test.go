package status

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/config"
	"github.com/ocl-guard/ocl-guard/test/testbed"
	"github.com/ocl-guard/ocl-guard/validators"
)

// The install's ConfigMap has kustomize's content hash in its name: status finds it through the Deployment.
func TestMountedSettingsOfTheInstall(t *testing.T) {
	objs, err := testbed.Render(filepath.Join(testbed.RepoRoot(), "config", "default"))
	if err != nil {
		t.Fatal(err)
	}
	var d appsv1.Deployment
	configMaps := map[string]bool{}
	for _, u := range objs {
		switch u.GetKind() {
		case "Deployment":
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &d); err != nil {
				t.Fatal(err)
			}
		case "ConfigMap":
			configMaps[u.GetName()] = true
		}
	}
	if d.Namespace != InstallNamespace || d.Name != InstallDeployment {
		t.Fatalf("config/default installs Deployment %s/%s, status looks for %s/%s", d.Namespace, d.Name, InstallNamespace, InstallDeployment)
	}
	f, err := MountedSettings(&d)
	if err != nil {
		t.Fatal(err)
	}
	if f.Container != "checker" || f.Path != "/etc/ocl-guard/settings.yaml" || f.Key != "settings.yaml" {
		t.Errorf("%+v: want the checker container's /etc/ocl-guard/settings.yaml, key settings.yaml", f)
	}
	if !configMaps[f.ConfigMap] || !strings.HasPrefix(f.ConfigMap, "ocl-guard-settings-") {
		t.Errorf("ConfigMap %q: not the hashed name of the rendered settings %v", f.ConfigMap, configMaps)
	}
}

func TestSettingsArg(t *testing.T) {
	for args, want := range map[string]string{
		"checker --settings=/etc/x.yaml --port=1": "/etc/x.yaml",
		"checker --settings /etc/x.yaml":          "/etc/x.yaml",
		"checker -settings=/etc/x.yaml":           "/etc/x.yaml",
		"checker --settingsfile=/etc/x.yaml":      "",
		"checker settings=/etc/x.yaml":            "",
		"checker --settings":                      "",
	} {
		if got := settingsArg(strings.Fields(args)); got != want {
			t.Errorf("%s: %q, want %q", args, got, want)
		}
	}
}

func installClient(t *testing.T, funcs interceptor.Funcs) client.Client {
	t.Helper()
	scheme, err := app.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	return fake.NewClientBuilder().WithScheme(scheme).WithInterceptorFuncs(funcs).Build()
}

func TestClusterSettingsAreTheInstalledCheckers(t *testing.T) {
	ctx := context.Background()
	c := installClient(t, interceptor.Funcs{})
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	installed := config.Defaults()
	installed.Registry.AllowLoopback = true
	installed.Rules[validators.RulePushSpecSyntax] = validators.ActionOff
	installed.Registry.CABundles = []string{"/etc/pki/in-the-pod.pem", caFile}
	if err := testbed.InstallSettings(ctx, c, InstallNamespace, installed); err != nil {
		t.Fatal(err)
	}
	got, source := ClusterSettings(ctx, c, InstallNamespace)
	want := installed
	want.Registry.CABundles = []string{caFile}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("settings %+v, want the installed ones %+v", got, want)
	}
	for _, in := range []string{"ConfigMap ocl-guard/ocl-guard-settings-", "key settings.yaml", "Deployment ocl-guard/ocl-guard container checker",
		"without registry.caBundles /etc/pki/in-the-pod.pem"} {
		if !strings.Contains(source, in) {
			t.Errorf("source %q lacks %q", source, in)
		}
	}
}

func TestClusterSettingsFallBackToTheDefaults(t *testing.T) {
	ctx := context.Background()
	forbidden := interceptor.Funcs{Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
		return apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "deployments"}, key.Name, nil)
	}}
	for _, tc := range []struct {
		name   string
		funcs  interceptor.Funcs
		source string
	}{
		{"not installed", interceptor.Funcs{}, "built-in defaults: no Deployment ocl-guard/ocl-guard; give --settings FILE to use others"},
		{"not allowed", forbidden, "built-in defaults: not allowed to read Deployment ocl-guard/ocl-guard; give --settings FILE to use others"},
	} {
		got, source := ClusterSettings(ctx, installClient(t, tc.funcs), InstallNamespace)
		if !reflect.DeepEqual(got, config.Defaults()) || source != tc.source {
			t.Errorf("%s: %q, want the defaults and %q", tc.name, source, tc.source)
		}
	}
}

func TestClusterSettingsSayWhenTheConfigMapIsGone(t *testing.T) {
	ctx := context.Background()
	c := installClient(t, interceptor.Funcs{})
	if err := testbed.InstallSettings(ctx, c, InstallNamespace, config.Defaults()); err != nil {
		t.Fatal(err)
	}
	var d appsv1.Deployment
	if err := c.Get(ctx, client.ObjectKey{Namespace: InstallNamespace, Name: InstallDeployment}, &d); err != nil {
		t.Fatal(err)
	}
	f, err := MountedSettings(&d)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: InstallNamespace, Name: f.ConfigMap}}); err != nil {
		t.Fatal(err)
	}
	_, source := ClusterSettings(ctx, c, InstallNamespace)
	if want := "built-in defaults: no ConfigMap ocl-guard/" + f.ConfigMap + ", which Deployment ocl-guard/ocl-guard mounts; give --settings FILE to use others"; source != want {
		t.Errorf("%q, want %q", source, want)
	}
}
