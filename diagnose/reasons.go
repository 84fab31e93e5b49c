package diagnose

// Reason is the stable code of a diagnosis. It is written to the ocl-guard.io/diagnosis annotation and used as the
// Event reason, so the values never change once released. The empty Reason means "healthy / nothing to say": the
// checker removes its annotations.
//
// The doc comment of each constant says what the reason means and what the administrator should do; the README
// is generated from them.
type Reason string

// Severity grades a Diagnosis. Error: the build or rollout will not succeed without a fix. Warning: it is late or
// looks stuck and may need a fix. Info: nothing is broken, the state is worth knowing.
type Severity string

const (
	SeverityError   Severity = "Error"
	SeverityWarning Severity = "Warning"
	SeverityInfo    Severity = "Info"
)

// Stage 2: MachineOSBuild (the image build Job in openshift-machine-config-operator).
const (
	// BaseImagePullAuth: the build could not pull its base image because the registry refused the credentials
	// ("creating build container" / "initializing source" ... unauthorized, authentication required, 401/403).
	// Fix: make the secret named in the MachineOSConfig's spec.baseImagePullSecret (or, when unset,
	// openshift-config/pull-secret, which the MCO copies to global-pull-secret-copy) hold valid credentials for the
	// base image's registry.
	BaseImagePullAuth Reason = "BaseImagePullAuth"

	// BaseImageNotFound: the base image (or its tag) does not exist in the registry ("manifest unknown" while
	// pulling it). Fix: correct the FROM reference, or restore the image in the registry or mirror.
	BaseImageNotFound Reason = "BaseImageNotFound"

	// PushAuth: the registry refused the push credentials (unauthorized, authentication required, invalid
	// username/password) while pushing the built image. Fix: make the secret named in the MachineOSConfig's
	// spec.renderedImagePushSecret (namespace openshift-machine-config-operator) hold valid credentials for the
	// registry of spec.renderedImagePushSpec, under the exact host name (and port) of the push spec.
	PushAuth Reason = "PushAuth"

	// PushDenied: the registry accepted the push credentials but denied the write ("denied: requested access to
	// the resource is denied", 403 Forbidden). Fix: grant the account write access to the repository of
	// spec.renderedImagePushSpec (e.g. a Quay robot account with write permission), or create the repository if the
	// registry does not create repositories on push.
	PushDenied Reason = "PushDenied"

	// RegistryUnreachable: the build pod could not reach a registry (DNS failure, connection refused or timed out,
	// TLS certificate not trusted, HTTP registry, 502/503/504). Fix: check DNS, the cluster-wide proxy
	// (proxy/cluster), egress firewall rules, and for private CAs the additionalTrustedCA of image.config/cluster.
	RegistryUnreachable Reason = "RegistryUnreachable"

	// ContainerfileSyntax: the Containerfile could not be parsed (unknown instruction, malformed ENV/ARG, bad JSON
	// array, unterminated heredoc, missing FROM), or a COPY --from names no earlier stage. When the MCO (5.0+) failed
	// the build before creating a Job, the MachineOSConfig's Containerfile is re-checked with the containerfile rule
	// and its error quoted. Fix: correct spec.containerFile of the MachineOSConfig; the MCO
	// builds a new image when the MachineOSConfig changes.
	ContainerfileSyntax Reason = "ContainerfileSyntax"

	// BuildStepFailed: a RUN step of the Containerfile exited with a non-zero status. The message names the step and
	// its exit code. Fix: correct that command in spec.containerFile; reproduce it locally with
	// `podman build` against the same base image, or read the full log of the build pod.
	BuildStepFailed Reason = "BuildStepFailed"

	// PackageNotFound: dnf, microdnf or rpm-ostree inside a RUN step could not find a package ("No match for
	// argument", "Unable to find a match", "Packages not found"). Fix: correct the package name, or enable the
	// repository that ships it (a .repo file in the Containerfile, or entitlements for RHEL content).
	PackageNotFound Reason = "PackageNotFound"

	// RepoUnreachable: dnf or rpm-ostree inside a RUN step could not download repository metadata (Curl errors,
	// "Cannot download repomd.xml", "All mirrors were tried"). Fix: check the repository URL, the proxy
	// settings passed to the build, and for Red Hat CDN repositories the entitlement certificates.
	RepoUnreachable Reason = "RepoUnreachable"

	// BuilderImagePull: the build pod cannot start because the kubelet cannot pull one of its own container images
	// (ErrImagePull / ImagePullBackOff on the builder image that the MCO uses, not the base image). Fix: check the
	// cluster pull secret (openshift-config/pull-secret) and the image mirror configuration
	// (ImageDigestMirrorSet/ImageTagMirrorSet) for the builder image's registry.
	BuilderImagePull Reason = "BuilderImagePull"

	// BuildStuck: the MachineOSBuild has been Building for longer than the stuck limit (default 2h). The MCO sets
	// no deadline on the build Job, so a hung build never fails on its own. Fix: read the build pod's log; to retry,
	// annotate the MachineOSConfig with machineconfiguration.openshift.io/rebuild.
	BuildStuck Reason = "BuildStuck"

	// BuildPendingTooLong: the build pod has not started for longer than the pending limit (default 15m): it is
	// unschedulable (the PodScheduled message is quoted), or stuck creating its containers, or the Job has no pod.
	// Fix: free capacity or fix taints, quotas and node selectors, or the missing volume named in the evidence.
	BuildPendingTooLong Reason = "BuildPendingTooLong"

	// Interrupted: the MCO interrupted the build (its MachineOSConfig or the pool's rendered config changed, or the
	// Job was deleted). A new build normally follows; act only if builds keep being interrupted.
	Interrupted Reason = "Interrupted"

	// EntitlementMissing: a RUN step needed Red Hat content but the build had no entitlement: dnf printed "This
	// system is not registered with an entitlement server" and then found no package, or "There are no enabled
	// repositories". Not a mistake in the RUN command. Fix: make the cluster's entitlement available (Secret
	// etc-pki-entitlement in openshift-config-managed, which the MCO copies into each build), or add a .repo file
	// for the content to the Containerfile.
	EntitlementMissing Reason = "EntitlementMissing"

	// ImageShortName: buildah met an image name without a registry host (FROM ubi9, COPY --from=tools:1) and cannot
	// ask which registry to use ("short-name resolution enforced but cannot prompt without a TTY"). Fix: write the
	// full name, e.g. registry.access.redhat.com/ubi9/ubi:latest, in spec.containerFile.
	ImageShortName Reason = "ImageShortName"

	// RegistryRateLimited: the registry throttled the build's pulls or pushes ("toomanyrequests: You have reached
	// your pull rate limit", HTTP 429), typically Docker Hub for anonymous or free accounts. Fix: put credentials for
	// that registry in the pull secret, mirror the image (ImageDigestMirrorSet/ImageTagMirrorSet), or wait and rebuild.
	RegistryRateLimited Reason = "RegistryRateLimited"

	// BuildPodEvicted: the kubelet evicted the build pod (pod status reason Evicted; its message names the resource,
	// usually ephemeral-storage, since buildah's vfs storage keeps every layer on the node's disk, or memory). Fix:
	// free that resource on the build nodes or schedule builds onto nodes with more of it.
	BuildPodEvicted Reason = "BuildPodEvicted"

	// BuildOOMKilled: a build container was killed for running out of memory (container terminated reason
	// OOMKilled). Fix: give the build more memory (a LimitRange in openshift-machine-config-operator may cap it, or
	// the node is too small), or make the RUN steps lighter (fewer packages per dnf transaction).
	BuildOOMKilled Reason = "BuildOOMKilled"

	// FailedBeforeJob: the build failed before any build Job existed, and its Containerfile parses here. MCO 5.0+
	// validates the rendered Containerfile before creating the Job; other preparation errors are only in the
	// machine-os-builder log. Fix: read `oc logs -n openshift-machine-config-operator deployment/machine-os-builder`
	// and the MCO's Events on the MachineOSBuild and its MachineOSConfig (quoted in the evidence).
	FailedBeforeJob Reason = "FailedBeforeJob"

	// BuildDiskFull: the build ran out of disk space ("no space left on device" while storing a layer, committing a
	// step, or inside a RUN step). buildah's storage in the build pod is an emptyDir on the node's disk (vfs driver,
	// every layer uncompressed) with no size limit, so the build fails instead of being evicted. Fix: free space on
	// the build node, or make the image smaller (fewer layers, dnf clean all in the same RUN step).
	BuildDiskFull Reason = "BuildDiskFull"

	// RegistryQuotaExceeded: a registry quota refused the push, e.g. Harbor's "denied: adding 29.0 MiB of storage
	// resource, which when updated to current usage of ... will exceed the configured upper limit of ...". Fix: raise
	// the project's or repository's quota, or delete old images there (the MCO deletes an image only when its
	// MachineOSBuild is deleted).
	RegistryQuotaExceeded Reason = "RegistryQuotaExceeded"

	// PushTooLarge: the registry, or a proxy in front of it, answered a layer upload with HTTP 413 Request Entity Too
	// Large ("StatusCode: 413", "error parsing HTTP 413 response body"). Fix: allow larger request bodies there
	// (nginx: client_max_body_size 0), or push through a route without that limit.
	PushTooLarge Reason = "PushTooLarge"

	// RpmGpgKeyMissing: dnf inside a RUN step has no GPG public key for a repository ("you do not have any GPG
	// public keys installed", "Public key for <x>.rpm is not installed"). Fix: import the key (rpm --import) before the
	// install, set gpgkey= in the .repo file, or create Secret etc-pki-rpm-gpg in openshift-machine-config-operator,
	// which the MCO mounts into builds.
	RpmGpgKeyMissing Reason = "RpmGpgKeyMissing"

	// PackageConflict: dnf or rpm-ostree cannot resolve the transaction ("Could not depsolve transaction", "nothing
	// provides kernel-uname-r = <kver> needed by kmod-...", "conflicting requests"), typically a kernel module built
	// for another kernel than the base image's. Fix: install packages that fit the base image (a kmod for its kernel),
	// or remove the conflicting ones.
	PackageConflict Reason = "PackageConflict"

	// ImageLintFailed: `bootc container lint`, which the image mode documentation recommends as the last step,
	// found problems ("error: Linting: Checks failed: N", e.g. var-tmpfiles: content in /var without tmpfiles.d
	// entries). Fix: what each lint names, or skip one with --skip <name>.
	ImageLintFailed Reason = "ImageLintFailed"

	// BuildContextMissing: a COPY or ADD without --from found nothing to copy (`checking on sources under ...:
	// copier: stat: ...: no such file or directory`): an OCL build's context holds only the Containerfile,
	// machineconfig/ and the CA bundle. Fix: fetch the file in a RUN step, COPY --from an image that holds it, or
	// deliver it with a MachineConfig.
	BuildContextMissing Reason = "BuildContextMissing"

	// Unknown: the build failed and no known pattern matched. The evidence holds the last lines of the build log.
	// Fix: read the full build log.
	Unknown Reason = "Unknown"
)

// Stage 3: rollout of the built image to the pool's nodes.
const (
	// RolloutNotStarted: the build succeeded and the MachineOSConfig's status.currentImagePullSpec is set, but after
	// the start limit (default 10m) no node has it as its desiredImage and the pool is not Updating (or the
	// MachineOSConfig still points at an older image). Fix: read the machine-config-controller log; check that the
	// pool is not paused and that its nodes match its node selector.
	RolloutNotStarted Reason = "RolloutNotStarted"

	// RolloutPaused: the pool is paused (spec.paused=true), so the built image is not rolled out. Unpause the pool
	// when the maintenance window allows.
	RolloutPaused Reason = "RolloutPaused"

	// NodeImagePullAuth: nodes cannot pull the built OS image because the registry refused the credentials. Nodes
	// pull with the cluster pull secret (openshift-config/pull-secret) merged with the internal-registry secret, not
	// with the push secret. Fix: add credentials for the image's registry to the cluster pull secret.
	NodeImagePullAuth Reason = "NodeImagePullAuth"

	// NodeRegistryUnreachable: nodes cannot reach the registry holding the built OS image (DNS, connection, TLS).
	// Fix: check DNS, proxy, firewall and trusted CAs from the nodes to that registry.
	NodeRegistryUnreachable Reason = "NodeRegistryUnreachable"

	// NodeImageNotFound: the built OS image is gone from the registry ("manifest unknown"), e.g. deleted or pruned
	// by a retention policy. Fix: restore the image or force a rebuild by annotating the MachineOSConfig with
	// machineconfiguration.openshift.io/rebuild; exclude the repository from pruning.
	NodeImageNotFound Reason = "NodeImageNotFound"

	// NodeDiskFull: a node ran out of disk space while pulling the OS image ("No space left on device", ostree
	// min-free-space-percent would be exceeded). Fix: free space on the node's root filesystem (/sysroot); the
	// machine-config-daemon retries.
	NodeDiskFull Reason = "NodeDiskFull"

	// NodeCauseNotRecorded: the node reports "failed to update OS to <image> after retries: timed out waiting for
	// the condition" without the cause. MCO releases built between 2025-07 and 2026-08 drop the cause from the node
	// annotation. Fix: read the cause in the machine-config-daemon log on that node (lines "Failed to update OS to
	// ... (will retry)").
	NodeCauseNotRecorded Reason = "NodeCauseNotRecorded"

	// NodeDegraded: a node is Degraded or Unreconcilable for another reason, quoted in the evidence. Fix: follow the
	// reason; the machine-config-daemon log on that node has the details.
	NodeDegraded Reason = "NodeDegraded"

	// NodeRebootStuck: a node has been Rebooting, or Working on a new image, for longer than the reboot limit
	// (default 20m). Fix: check the node's console and its Machine object, and whether a drain is blocked (e.g. by a
	// PodDisruptionBudget).
	NodeRebootStuck Reason = "NodeRebootStuck"

	// RolloutStalled: the pool's updatedMachineCount has not changed for the stall limit (default 30m) while not all
	// machines are updated. Common causes: a drain blocked by a PodDisruptionBudget, maxUnavailable reached because
	// a node is unavailable. Fix: `oc describe mcp <pool>` and the machine-config-controller log.
	RolloutStalled Reason = "RolloutStalled"

	// NodeImagePolicyRejected: the nodes' signature policy (containers policy.json, e.g. from a ClusterImagePolicy or
	// ImagePolicy) rejects the built image, which OCL does not sign ("A signature was required, but no signature
	// exists", "is rejected by policy"). Fix: exempt the push spec's repository from the signature requirement, or
	// sign the built image and trust its key in the policy.
	NodeImagePolicyRejected Reason = "NodeImagePolicyRejected"

	// NodeImageContentInvalid: the node cannot import the image's content as an OS: ostree's tar import fails, e.g.
	// on hardlinks under /var ("ostree-tar: Processing deferred hardlink var/...: Failed to find object", "Failed to
	// commit tar"). Fix: in the Containerfile, remove what a RUN step left in /var (dnf caches, akmods logs), or build
	// with a buildah that writes direct hardlinks; then rebuild.
	NodeImageContentInvalid Reason = "NodeImageContentInvalid"

	// NodeUnitMissing: a MachineConfig enables a systemd unit that the layered image does not ship ("error enabling
	// units: Failed to enable unit: Unit file <x> does not exist"). Fix: install the package that ships the unit in
	// the Containerfile, or stop enabling it in the MachineConfig.
	NodeUnitMissing Reason = "NodeUnitMissing"

	// NodeImageNotBootable: the image has no kernel the node can boot ("Failed to find kernel in /usr/lib/modules,
	// /usr/lib/ostree-boot or /boot"), e.g. a RUN step removed or replaced the kernel. Fix: keep exactly one kernel in
	// /usr/lib/modules/<kver> with its vmlinuz and initramfs; rebuild.
	NodeImageNotBootable Reason = "NodeImageNotBootable"

	// BuildFailedBlocksRollout: the pool's ImageBuildDegraded condition is True: the latest image build failed, so
	// the pool stays on its previous image. The MachineOSBuild carries its own diagnosis; fix that first.
	BuildFailedBlocksRollout Reason = "BuildFailedBlocksRollout"
)

// Reasons lists every reason DiagnoseBuild and DiagnosePool can return, each once, build reasons first: the rows of
// the classifier's build causes and of buildChain, then those of poolChain.
func Reasons() []Reason {
	out := buildCauseReasons()
	for _, r := range append(buildChain.reasons(), poolChain.reasons()...) {
		if !containsReason(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// DefaultSeverity is the severity a reason is reported with: the Severity column of the first table row that reports
// it (buildChain, causeTable, poolChain, configChain). Error for causes found in error text, Warning for the
// time-based rules (stuck, pending, stalled, not started), Info for Interrupted, RolloutPaused and PoolPaused. A
// build attempt that failed while the Job still retries is reported as Warning whatever its reason.
func DefaultSeverity(r Reason) Severity {
	if r == "" {
		return ""
	}
	if s, ok := buildChain.severityOf(r); ok {
		return s
	}
	for _, c := range causeTable {
		if c.reason == r && c.severity != "" {
			return c.severity
		}
	}
	if s, ok := poolChain.severityOf(r); ok {
		return s
	}
	if s, ok := configChain.severityOf(r); ok {
		return s
	}
	return SeverityError
}
