package diagnose

// Stage 1 and "nothing happens": reasons written on the MachineOSConfig. The IDs of the failing admission rules are
// not part of the reason; the checker writes them to an annotation of their own (ocl-guard.io/rules).
const (
	// ConfigCheckFailed: the admission rules (the same code as the webhook) find errors in the MachineOSConfig as
	// it is now, e.g. its push secret was deleted or rotated after admission. Error when a rule set to deny fails
	// (a build would fail), Warning when only warn rules fail. The message lists the findings with their fields;
	// ocl-guard.io/rules lists the rule IDs. Fix: what each finding says.
	ConfigCheckFailed Reason = "ConfigCheckFailed"

	// BuilderNotRunning: the MCO's build controller (Deployment machine-os-builder in
	// openshift-machine-config-operator) is not running, so no MachineOSBuild is created. Usually the operator
	// refused to deploy it: ClusterOperator machine-config is Degraded with reason MachineOSBuilderFailed, and its
	// message (quoted as evidence) names the cause: a missing pool or MachineOSConfig, a missing or malformed secret,
	// a push spec its reference parser refuses, or a non-CoreOS node in the pool. Fix: what that message says.
	BuilderNotRunning Reason = "BuilderNotRunning"

	// CurrentBuildFailed: the MachineOSConfig's current build (annotation
	// machineconfiguration.openshift.io/current-machine-os-build, set by the MCO when a build starts) failed. Its
	// status still names the last successful build, whose image the nodes keep running. The cause is diagnosed on
	// the MachineOSBuild; fix that, and the MCO builds again when the MachineOSConfig changes or is annotated with
	// machineconfiguration.openshift.io/rebuild.
	CurrentBuildFailed Reason = "CurrentBuildFailed"

	// PoolDegradedBlocksBuild: the pool is degraded for a reason other than the build (NodeDegraded, RenderDegraded,
	// PinnedImageSetsDegraded, PoolSynchronizerDegraded) while the MachineOSConfig waits for a build; the MCO creates
	// no MachineOSBuild until that is fixed ("MachineConfigPool <pool> is degraded due to non-build issues"). Fix the
	// pool condition quoted in the evidence first.
	PoolDegradedBlocksBuild Reason = "PoolDegradedBlocksBuild"

	// RebuildNotStarted: the machineconfiguration.openshift.io/rebuild annotation has been on the MachineOSConfig
	// for longer than the observe limit (default 10m) and the MCO has not started a new build (it removes the
	// annotation when it does). The MCO ignores the annotation on a MachineOSConfig that has no build yet. Fix: read
	// the machine-os-builder log.
	RebuildNotStarted Reason = "RebuildNotStarted"

	// GenerationNotObserved: the MachineOSConfig's spec changed (metadata.generation is ahead of
	// status.observedGeneration) longer ago than the observe limit (default 10m) and the MCO has not picked the
	// change up, or a new MachineOSConfig has had no build for as long. Fix: read the machine-os-builder log.
	GenerationNotObserved Reason = "GenerationNotObserved"

	// PoolPaused: the pool is paused (spec.paused=true) while the MachineOSConfig waits for a build or has a newer
	// build than the image its nodes run. The MCO still builds, but does not roll the image out until the pool is
	// unpaused. Info: unpause when the maintenance window allows.
	PoolPaused Reason = "PoolPaused"
)

// ConfigReasons lists every reason DiagnoseConfig can return, in rank order: the rows of configChain.
func ConfigReasons() []Reason { return configChain.reasons() }
