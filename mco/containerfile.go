package mco

// What a build's Containerfile runs in: the MCO renders its own stages, appends the user's containerFile content, and
// builds that in a context directory it fills itself.
const (
	// StageExtract and StageConfigs are the stages of the MCO's rendered Containerfile, in that order, both FROM the
	// pool's base OS image: extract unpacks the MachineConfig, configs applies it (Ignition live-apply) and is the
	// stage the user's content extends or names (pkg/controller/build/buildrequest/assets/
	// Containerfile.on-cluster-build-template). An image whose last stage does not build on configs lacks the
	// pool's MachineConfig content.
	StageExtract = "extract"
	StageConfigs = "configs"
)

// BuildContext lists what the build's context directory holds: buildah-build.sh copies the rendered Containerfile,
// machineconfig/machineconfig.json.gz and the user CA bundle openshift-config-user-ca-bundle.crt into
// $HOME/context and builds there (pkg/controller/build/buildrequest/assets/buildah-build.sh). A COPY or ADD of
// anything else from the context fails.
var BuildContext = []string{"Containerfile", "machineconfig/machineconfig.json.gz", "openshift-config-user-ca-bundle.crt"}

// RPMGPGMountPath is where a build sees Secret RPMGPGSecretName when it exists: dnf's keys directory
// (pkg/controller/build/buildrequest/envvolumemount.go optsForEtcRpmGpgKeys, buildah-build.sh
// ETC_PKI_RPM_GPG_MOUNTPOINT).
const RPMGPGMountPath = "/etc/pki/rpm-gpg"
