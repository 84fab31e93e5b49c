package main

import (
	"context"
	"flag"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/config"
	"github.com/ocl-guard/ocl-guard/status"
)

// clusterFlags are the flags of the commands that read a cluster (status, status --from, wait): how to reach its
// API server, and which settings to judge with.
type clusterFlags struct {
	kubeconfig *string
	qps        *float64
	burst      *int
	settings   settingsFlags
}

// clusterClients are what status and wait read the cluster with: the REST config (a watch's informers), a plain,
// uncached client (a one-shot run lists nothing it does not read; a watch reads what it does not watch), and a
// clientset for build logs.
type clusterClients struct {
	config    *rest.Config
	direct    client.Client
	clientset kubernetes.Interface
}

func (f clusterFlags) clients() (clusterClients, error) {
	cfg, err := f.restConfig()
	if err != nil {
		return clusterClients{}, err
	}
	scheme, err := app.Scheme()
	if err != nil {
		return clusterClients{}, err
	}
	direct, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return clusterClients{}, err
	}
	clientset, err := kubernetes.NewForConfig(cfg)
	return clusterClients{config: cfg, direct: direct, clientset: clientset}, err
}

// settingsFlags choose the settings: a file, or else those of the installed checker (status.ClusterSettings).
type settingsFlags struct {
	path, namespace *string
}

// bindClusterFlags defines the flags; uses says what of the settings the command uses, for its help.
func bindClusterFlags(fs *flag.FlagSet, command, uses string) clusterFlags {
	return clusterFlags{
		kubeconfig: fs.String("kubeconfig", "", "path to a kubeconfig; $KUBECONFIG or in-cluster config when empty"),
		qps:        fs.Float64("kube-api-qps", float64(app.DefaultKubeAPIQPS), "client-side limit of API requests per second; -1 leaves limiting to the server"),
		burst:      fs.Int("kube-api-burst", app.DefaultKubeAPIBurst, "client-side burst of API requests, when --kube-api-qps is positive"),
		settings: settingsFlags{
			path: fs.String("settings", "", "settings file ("+uses+"); when empty, those of the installed checker (--ocl-guard-namespace), else the built-in defaults"),
			namespace: fs.String("ocl-guard-namespace", status.InstallNamespace,
				"namespace of ocl-guard's Deployment, whose settings ConfigMap "+command+" reads"),
		},
	}
}

func (f clusterFlags) restConfig() (*rest.Config, error) {
	return app.RESTConfig(*f.kubeconfig, float32(*f.qps), *f.burst)
}

// fromFile reads --settings before anything reaches the cluster, so that a bad file is the error a user sees; given
// is false when there is no file and the installed checker's settings apply (installed).
func (f settingsFlags) fromFile() (s config.Settings, source string, given bool, err error) {
	if *f.path == "" {
		return config.Settings{}, "", false, nil
	}
	s, err = config.Load(*f.path)
	return s, "--settings " + *f.path, true, err
}

// installed reads the settings of the installed checker through c: the API server, or a must-gather.
func (f settingsFlags) installed(ctx context.Context, c client.Reader) (config.Settings, string) {
	return status.ClusterSettings(ctx, c, *f.namespace)
}
