package mco

// Where the MCO keeps what On-Cluster Layering uses.
const (
	// Namespace is where the MCO reads every Secret a MachineOSConfig names, runs its build Jobs and its daemons
	// (pkg/controller/common/constants.go MCONamespace).
	Namespace = "openshift-machine-config-operator"

	// ClusterPullSecretNamespace and ClusterPullSecretName locate the cluster pull secret, which the MCO copies into
	// GlobalPullSecretCopy and the nodes pull with (pkg/controller/build/reconciler.go, the global pull secret copy).
	ClusterPullSecretNamespace = "openshift-config"
	ClusterPullSecretName      = "pull-secret"
	// GlobalPullSecretCopy is the Secret in Namespace that a build pulls its base images with when
	// spec.baseImagePullSecret is unset: a copy of the cluster pull secret, made only once a pool is layered
	// (pkg/controller/build/constants/constants.go globalPullSecretCopyName).
	GlobalPullSecretCopy = "global-pull-secret-copy"

	// EntitlementSecretNamespace/Name: the RHEL entitlement the MCO copies per pool into a build when it exists
	// (pkg/controller/build/constants/constants.go EtcPkiEntitlementSecretName, in openshift-config-managed).
	EntitlementSecretNamespace = "openshift-config-managed"
	EntitlementSecretName      = "etc-pki-entitlement"
	// YumReposConfigMapName: the ConfigMap in Namespace the MCO mounts as /etc/yum.repos.d when it exists
	// (pkg/controller/build/constants/constants.go EtcYumReposDConfigMapName).
	YumReposConfigMapName = "etc-yum-repos-d"
	// RPMGPGSecretName: the Secret in Namespace the MCO mounts as /etc/pki/rpm-gpg when it exists
	// (pkg/controller/build/constants/constants.go EtcPkiRpmGpgSecretName).
	RPMGPGSecretName = "etc-pki-rpm-gpg"

	// OperatorName is the MCO's ClusterOperator.
	OperatorName = "machine-config"
	// BuilderDeployment runs the MCO's build controller in Namespace (manifests/machineosbuilder/deployment.yaml).
	BuilderDeployment = "machine-os-builder"
	// BuilderFailedReason is the ClusterOperator's Degraded reason when the operator could not deploy the build
	// controller: taskFailed("MachineOSBuilder") (pkg/operator/status.go).
	BuilderFailedReason = "MachineOSBuilderFailed"

	// EventNamespace is where core/v1 Events about cluster-scoped objects (MachineOSBuilds, MachineOSConfigs) are
	// stored, the MCO's own included: client-go's recorder puts them in "default" when the object has no namespace
	// (kubernetes/client-go tools/record/event.go makeEvent).
	EventNamespace = "default"
)

// Annotations and labels the MCO writes or reads.
const (
	// AnnotationCurrentBuild is set on a MachineOSConfig to the MachineOSBuild the MCO started last, when it starts
	// (pkg/controller/build/constants/constants.go CurrentMachineOSBuildAnnotationKey).
	AnnotationCurrentBuild = "machineconfiguration.openshift.io/current-machine-os-build"
	// AnnotationRebuild asks the MCO to build again; it removes the annotation when the new build starts
	// (pkg/controller/build/constants/constants.go RebuildMachineOSConfigAnnotationKey).
	AnnotationRebuild = "machineconfiguration.openshift.io/rebuild"
	// AnnotationPreBuiltImage seeds a MachineOSConfig with an image built elsewhere, at install time
	// (pkg/controller/build/constants/constants.go PreBuiltImageAnnotationKey).
	AnnotationPreBuiltImage = "machineconfiguration.openshift.io/pre-built-image"

	// LabelTargetPool is set on MachineOSBuilds (and their Jobs) to the pool they build for
	// (pkg/controller/build/constants/constants.go TargetMachineConfigPoolLabelKey).
	LabelTargetPool = "machineconfiguration.openshift.io/target-machine-config-pool"
	// LabelJobName is set by the Job controller on every pod of a Job (kubernetes/kubernetes
	// pkg/controller/job/job_controller.go, batch.kubernetes.io/job-name); a build's pods are found by it.
	LabelJobName = "batch.kubernetes.io/job-name"
)

// Node annotations: written by the MCO's node controller (desired*) and the machine-config-daemon (current*, state,
// reason) (pkg/daemon/constants/constants.go).
const (
	AnnotationDesiredImage = "machineconfiguration.openshift.io/desiredImage"
	AnnotationCurrentImage = "machineconfiguration.openshift.io/currentImage"
	AnnotationState        = "machineconfiguration.openshift.io/state"
	AnnotationReason       = "machineconfiguration.openshift.io/reason"
)

// Values of the node state annotation (pkg/daemon/constants/constants.go MachineConfigDaemonState*).
const (
	StateWorking        = "Working"
	StateDone           = "Done"
	StateDegraded       = "Degraded"
	StateRebooting      = "Rebooting"
	StateUnreconcilable = "Unreconcilable"
)

// ImageBuildContainer is the build pod's container that runs buildah: an init container from OCP 4.20, a regular
// container before (pkg/controller/build/buildrequest/assets/buildah-build.sh, buildrequest.go).
const ImageBuildContainer = "image-build"
