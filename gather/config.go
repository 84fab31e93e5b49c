package gather

import (
	"context"

	configv1 "github.com/openshift/api/config/v1"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ocl-guard/ocl-guard/diagnose"
	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/validators"
)

// GatherConfig reads everything diagnose.DiagnoseConfig looks at, except the clock and the memory: the
// MachineOSConfig's pool and current build, the admission rules' verdict, ClusterOperator machine-config and the machine-os-builder
// Deployment. What the reader may not see (no such CRD outside OpenShift, no permission) is left unknown.
func GatherConfig(ctx context.Context, c client.Reader, env validators.Env, config *mcfgv1.MachineOSConfig) (diagnose.ConfigSnapshot, error) {
	s := diagnose.ConfigSnapshot{Config: config, Findings: validators.Evaluate(ctx, config, env).Findings}
	var pool mcfgv1.MachineConfigPool
	switch err := c.Get(ctx, client.ObjectKey{Name: config.Spec.MachineConfigPool.Name}, &pool); {
	case err == nil:
		s.Pool = &pool
	case !apierrors.IsNotFound(err):
		return s, err
	}
	var err error
	if s.CurrentBuild, err = CurrentBuild(ctx, c, config); err != nil {
		return s, err
	}
	var operator configv1.ClusterOperator
	switch err := c.Get(ctx, client.ObjectKey{Name: mco.OperatorName}, &operator); {
	case err == nil:
		s.Operator = &operator
	case !unknowable(err):
		return s, err
	}
	var builder appsv1.Deployment
	switch err := c.Get(ctx, client.ObjectKey{Namespace: mco.Namespace, Name: mco.BuilderDeployment}, &builder); {
	case err == nil:
		s.BuilderRead, s.Builder = true, &builder
	case apierrors.IsNotFound(err):
		s.BuilderRead = true
	case !unknowable(err):
		return s, err
	}
	return s, nil
}

// CurrentBuild reads the MachineOSConfig's current build, the one the MCO follows (mco.CurrentBuildName); nil when
// the config has none or it is gone. GatherConfig and GatherPool both read it here, so the config, its build and
// its rollout are judged on one build.
func CurrentBuild(ctx context.Context, c client.Reader, config *mcfgv1.MachineOSConfig) (*mcfgv1.MachineOSBuild, error) {
	name := mco.CurrentBuildName(config)
	if name == "" {
		return nil, nil
	}
	var build mcfgv1.MachineOSBuild
	if err := c.Get(ctx, client.ObjectKey{Name: name}, &build); err != nil {
		return nil, client.IgnoreNotFound(err)
	}
	return &build, nil
}

// unknowable reports errors that leave an object unknown rather than failing the diagnosis.
func unknowable(err error) bool {
	return apierrors.IsNotFound(err) || apierrors.IsForbidden(err) || apimeta.IsNoMatchError(err)
}
