package gather

import (
	"context"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/ocl-guard/ocl-guard/diagnose"
	"github.com/ocl-guard/ocl-guard/mco"
)

// LogOptions say how GatherBuild reads a build log: through Logs (nil: no log), at most Limit bytes.
type LogOptions struct {
	Logs  LogReader
	Limit int64
}

// GatherBuild reads what diagnose.DiagnoseBuild looks at: the build's MachineOSConfig, Job and pods, the Events
// about it when the rules read them, and the build log when the diagnosis needs it, from the pod the rules judge
// (mco.NewestPod). The clock and the limits are part of the snapshot because whether the log is needed depends on
// them.
func GatherBuild(ctx context.Context, c client.Reader, build *mcfgv1.MachineOSBuild, logs LogOptions, now time.Time, limits diagnose.BuildLimits) (diagnose.BuildSnapshot, error) {
	s := diagnose.BuildSnapshot{Build: build, Now: now, Limits: limits}

	var config mcfgv1.MachineOSConfig
	if err := c.Get(ctx, client.ObjectKey{Name: build.Spec.MachineOSConfig.Name}, &config); err == nil {
		s.Config = &config
	} else if client.IgnoreNotFound(err) != nil {
		return s, err
	}

	jobName := mco.BuildJobName(build)
	var job batchv1.Job
	if err := c.Get(ctx, client.ObjectKey{Namespace: mco.Namespace, Name: jobName}, &job); err == nil {
		s.Job = &job
	} else if client.IgnoreNotFound(err) != nil {
		return s, err
	}
	var pods corev1.PodList
	if err := c.List(ctx, &pods, client.InNamespace(mco.Namespace), client.MatchingLabels{mco.LabelJobName: jobName}); err != nil {
		return s, err
	}
	s.Pods = pods.Items
	if diagnose.NeedsEvents(s) {
		events, err := eventsAbout(ctx, c, build)
		if err != nil {
			// Events are evidence, not the diagnosis: say why they are missing and go on.
			log.FromContext(ctx).Info("could not read the Events about the build", "build", build.Name, "error", err.Error())
		}
		s.Events = events
	}

	if diagnose.NeedsLog(s) && logs.Logs != nil {
		if pod := mco.NewestPod(s.Pods); pod != nil {
			logText, err := logs.Logs.TailLog(ctx, pod.Namespace, pod.Name, mco.ImageBuildContainer, logs.Limit)
			if err != nil {
				// The diagnosis still stands on the termination message; say why the log is missing and go on.
				log.FromContext(ctx).Info("could not read the build log", "pod", pod.Name, "error", err.Error())
			}
			s.Log = logText
		}
	}
	return s, nil
}
