package diagnose

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"github.com/ocl-guard/ocl-guard/mco"
)

// The classifier: what one line of error text says. causeTable is its one ranked table; scanLog (scan.go) reads a
// build log line by line through it, and the rollout rules read each node's reason annotation through it.

// class is what one line or message says, before it is turned into a Reason.
type class uint8

const (
	clsNone class = iota
	clsRunStep
	clsNetwork
	clsBaseAuth
	clsBaseNotFound
	clsPushAuth
	clsPushDenied
	clsPackage
	clsRepo
	clsContainerfile
	clsEntitlement  // RHEL content without the cluster's entitlement
	clsShortName    // an unqualified image name buildah cannot resolve without a prompt
	clsRateLimit    // the registry throttles pulls (HTTP 429 toomanyrequests)
	clsCopyFrom     // COPY --from names no stage, and no image could be pulled
	clsPod          // a kubelet/CRI line that is not an image pull failure
	clsPodImagePull // ErrImagePull, ImagePullBackOff, "Failed to pull image"
	clsNode         // a machine-config-daemon / rpm-ostree line with no recognised cause
	clsNodeUnreachable
	clsNodeDisk
	clsNodeNotFound
	clsNodeAuth
	clsNodeNoCause // the 2025-07 → 2026-08 wrapper that dropped the cause
	clsBuildDisk   // the build's storage ran out of space
	clsQuota       // a registry quota refused the push
	clsTooLarge    // HTTP 413 from the registry or a proxy in front of it
	clsGpgKey      // dnf has no GPG public key for a repository
	clsConflict    // dnf/rpm-ostree cannot resolve the transaction
	clsLint        // bootc container lint failed
	clsContextMissing
	clsNodePolicy      // the node's signature policy rejects the image
	clsNodeContent     // the image's content cannot be imported as an OS
	clsNodeUnitMissing // a MachineConfig enables a unit the image does not ship
	clsNodeNotBootable // the image has no kernel
	clsCount           // number of classes
)

// scope says which lines a row of causeTable reads.
type scope uint8

const (
	// scopeBuild: a line of a build log (or a build's condition, Event or termination message) that names neither a
	// node nor a pod anchor.
	scopeBuild scope = iota
	// scopePod: a kubelet or CRI line (podAnchor); it means nothing in a build log, whose pod status is read from
	// the pod.
	scopePod
	// scopeNode: a machine-config-daemon / rpm-ostree line (nodeAnchor); the row reads what follows the anchor.
	scopeNode
	// scopeNodeAny: a node's reason annotation with or without the anchor.
	scopeNodeAny
)

// cause is one row of causeTable.
type cause struct {
	cls   class
	scope scope
	// test says whether the line says this; nil matches every line of the scope (the scope's fallback).
	test func(t *lineText) bool
	// rank orders the classes of a build log: the line of the highest rank decides. 0: no meaning in a build log
	// (node and pod lines: the build pod does not run the node's tools, and pod status is read from the pod).
	rank int
	// reason and severity are what a build reports for the class; node classes are graded by poolChain.
	reason   Reason
	severity Severity
	// message names the build and the fix (build classes only).
	message func(v *buildView, r scanResult) string
}

// causeTable is the classifier, in precedence order within each scope: a line gets the class of the first row of
// its scope whose test passes. The precedence is node > pod > Containerfile > entitlement > short name/rate limit >
// package/repo > auth > network > RUN step (failure-signatures: "apply the regexes per message or line"), and the
// line's context (is it the output of a RUN step? is the build pulling or pushing?) decides what a word like
// "unauthorized" means. rank, not the order, decides between lines.
var causeTable = []cause{
	// Node side (section 7): the cause words must follow the anchor.
	{cls: clsNodeNoCause, scope: scopeNode, test: nodeNoCause.Match, reason: NodeCauseNotRecorded},
	// Before auth: a policy rejection is not a refused credential.
	{cls: clsNodePolicy, scope: scopeNode, test: signaturePolicy.Match, reason: NodeImagePolicyRejected},
	{cls: clsNodeAuth, scope: scopeNode, test: func(t *lineText) bool { return authRefused.Match(t) || denied.Match(t) }, reason: NodeImagePullAuth},
	{cls: clsNodeNotFound, scope: scopeNode, test: notFound.Match, reason: NodeImageNotFound},
	{cls: clsNodeDisk, scope: scopeNode, test: nodeDisk.Match, reason: NodeDiskFull},
	{cls: clsNodeContent, scope: scopeNode, test: ostreeTar.Match, reason: NodeImageContentInvalid},
	{cls: clsNodeNotBootable, scope: scopeNode, test: noKernel.Match, reason: NodeImageNotBootable},
	{cls: clsNodeUnreachable, scope: scopeNode, test: nodeNet.Match, reason: NodeRegistryUnreachable},
	{cls: clsNode, scope: scopeNode, reason: NodeDegraded},
	// A node's reason without the anchor: what says enough on its own. The MCD enables units after the new image is
	// in place, not while it rebases, so a missing unit never has the anchor.
	{cls: clsNodeDisk, scope: scopeNodeAny, test: nodeDisk.Match, reason: NodeDiskFull},
	{cls: clsNodeUnitMissing, scope: scopeNodeAny, test: unitMissing.Match, reason: NodeUnitMissing},
	{cls: clsNodeNotBootable, scope: scopeNodeAny, test: noKernel.Match, reason: NodeImageNotBootable},

	// Pod (section 8).
	{cls: clsPodImagePull, scope: scopePod, test: podPull.Match},
	{cls: clsPod, scope: scopePod},

	// Build (sections 1 to 6).
	{clsContainerfile, scopeBuild, containerfile.Match, 60, ContainerfileSyntax, SeverityError, func(v *buildView, _ scanResult) string {
		return fmt.Sprintf("%s: the Containerfile does not parse; fix spec.containerFile of %s", v.subjID, v.moscRef())
	}},
	// buildah: `building at STEP "COPY x /y": checking on sources under "<context>": copier: stat: "/x": no such file
	// or directory`. The MCO's build context (assets/buildah-build.sh) holds only the Containerfile, machineconfig/
	// and the CA bundle.
	{clsContextMissing, scopeBuild, contextMissing.Match, 60, BuildContextMissing, SeverityError, func(v *buildView, r scanResult) string {
		what := "a COPY or ADD"
		if p := contextPath(r.evidence); p != "" {
			what = "COPY or ADD of " + short(p, 160)
		}
		return fmt.Sprintf("%s: %s found nothing in the build context: an OCL build's context holds only the Containerfile, machineconfig/ and the CA bundle, not your files; in spec.containerFile of %s fetch the file in a RUN step, COPY --from an image that holds it, or put it in a MachineConfig", v.subjID, what, v.moscRef())
	}},
	// Everything after a full disk fails ("no space left on device" while storing a layer, committing a step, or
	// inside a RUN step): microshift-io/microshift#86, containers/podman#16192.
	{clsBuildDisk, scopeBuild, buildDisk.Match, 59, BuildDiskFull, SeverityError, func(v *buildView, _ scanResult) string {
		return fmt.Sprintf("%s: the build ran out of disk space: buildah's storage is an emptyDir (vfs driver, every layer uncompressed) on the build node's disk, with no size limit, so the build fails instead of being evicted; free space on the node that ran it (oc get pod -n %s -l batch.kubernetes.io/job-name=%s -o wide) or make the image smaller (fewer layers, dnf clean all in the same RUN step)", v.subjID, mco.Namespace, v.job)
	}},
	// Without entitlements RHEL repositories are missing, so their packages are "not found".
	{clsEntitlement, scopeBuild, noEnabledRepos.Match, 58, EntitlementMissing, SeverityError, func(v *buildView, r scanResult) string {
		return fmt.Sprintf("%s: %s needed Red Hat content but the build has no entitlement (not a mistake in the command); create Secret etc-pki-entitlement in openshift-config-managed (the MCO copies it into builds as etc-pki-entitlement-<pool>) or add a .repo file for that content to spec.containerFile of %s", v.subjID, stepPhrase(r), v.moscRef())
	}},
	// Refused pulls follow from an unresolvable short name or a throttle.
	{clsShortName, scopeBuild, shortName.Match, 45, ImageShortName, SeverityError, func(v *buildView, _ scanResult) string {
		return fmt.Sprintf("%s: an image in spec.containerFile of %s has no registry host and buildah cannot ask which registry to use; write the full name (e.g. registry.access.redhat.com/ubi9/ubi:latest) in FROM and COPY --from", v.subjID, v.moscRef())
	}},
	{clsRateLimit, scopeBuild, rateLimit.Match, 45, RegistryRateLimited, SeverityError, func(v *buildView, r scanResult) string {
		host := orDefault(hostInLine(r.evidence), "the registry")
		return fmt.Sprintf("%s: %s throttled the build (rate limit, HTTP 429) while pulling %s; add credentials for %s to %s, mirror the image, or rebuild later (oc annotate machineosconfig/%s machineconfiguration.openshift.io/rebuild=)", v.subjID, host, pulledImage(r), host, v.baseSecret(), v.moscOrPlaceholder())
	}},
	// dnf refuses unsigned or unverifiable packages before installing them: openshift-eng/ocp-build-data#10219.
	{clsGpgKey, scopeBuild, gpgKeyMissing.Match, 56, RpmGpgKeyMissing, SeverityError, func(v *buildView, r scanResult) string {
		return fmt.Sprintf("%s: %s: dnf has no GPG public key for a repository's packages; import it (RUN rpm --import <key> before the install), set gpgkey= in the .repo file, or create Secret etc-pki-rpm-gpg in %s with the key (the MCO mounts it into builds at /etc/pki/rpm-gpg)", v.subjID, stepPhrase(r), mco.Namespace)
	}},
	// A repository that cannot be reached also makes its packages "not found".
	{clsRepo, scopeBuild, repoUnreachable.Match, 55, RepoUnreachable, SeverityError, func(v *buildView, r scanResult) string {
		repo := "a package repository"
		if id := repoID(r.evidence); id != "" {
			repo = "package repository " + id
		}
		return fmt.Sprintf("%s: %s could not reach %s; check the repository URL, the cluster proxy and, for Red Hat CDN repositories, the entitlement certificates", v.subjID, stepPhrase(r), short(repo, 200))
	}},
	// The depsolver's own words name the package that cannot go in: ublue-os/akmods#300 (a kmod built for another
	// kernel: "nothing provides kernel-uname-r = <kver> needed by kmod-..."), ublue-os/hwe#300.
	{clsConflict, scopeBuild, depsolve.Match, 52, PackageConflict, SeverityError, func(v *buildView, r scanResult) string {
		what := "the packages cannot be installed together"
		if m := nothingProvidesRe.FindStringSubmatch(r.evidence); m != nil {
			what = "nothing provides " + short(m[1], 120) + " needed by " + short(m[2], 120)
		}
		hint := "remove or pin the conflicting packages"
		if strings.Contains(strings.ToLower(r.evidence), "kernel") {
			hint = "a kernel module package must be built for the base image's kernel (rpm -q kernel in the base image): use the kmod for that kernel, or build it in the Containerfile against kernel-devel of that version"
		}
		return fmt.Sprintf("%s: %s cannot resolve the transaction: %s; %s in spec.containerFile of %s", v.subjID, stepPhrase(r), what, hint, v.moscRef())
	}},
	// `bootc container lint` as the last step, as the image mode documentation recommends: bootc-dev/bootc#1546
	// ("error: Linting: Checks failed: 1").
	{clsLint, scopeBuild, lintFailed.Match, 53, ImageLintFailed, SeverityError, func(v *buildView, r scanResult) string {
		return fmt.Sprintf("%s: bootc container lint found problems in the image (%s); fix what each lint names (e.g. var-tmpfiles: content in /var needs a tmpfiles.d entry), or skip a lint with --skip <name>, in spec.containerFile of %s", v.subjID, stepPhrase(r), v.moscRef())
	}},
	{clsPackage, scopeBuild, packageNotFound.Match, 50, PackageNotFound, SeverityError, func(v *buildView, r scanResult) string {
		what := "a package was not found"
		if pkgs := packageNames(r.evidence); pkgs != "" {
			what = "package(s) not found: " + short(pkgs, 200)
		}
		return fmt.Sprintf("%s: %s in %s; fix the package name or enable the repository that ships it in spec.containerFile of %s", v.subjID, what, stepPhrase(r), v.moscRef())
	}},
	// Before auth: both come as a registry's "denied" or an HTTP error of a push.
	{clsQuota, scopeBuild, registryQuota.Match, 42, RegistryQuotaExceeded, SeverityError, func(v *buildView, _ scanResult) string {
		pushSpec := string(v.s.Build.Spec.RenderedImagePushSpec)
		return fmt.Sprintf("%s: %s refused the push of %s: the repository's or project's storage quota would be exceeded; raise the quota or delete old images there (the MCO deletes an image only when its MachineOSBuild is deleted)", v.subjID, registryHost(pushSpec), short(repoOf(pushSpec), 200))
	}},
	{clsTooLarge, scopeBuild, tooLarge.Match, 42, PushTooLarge, SeverityError, func(v *buildView, _ scanResult) string {
		host := registryHost(string(v.s.Build.Spec.RenderedImagePushSpec))
		return fmt.Sprintf("%s: %s (or a proxy in front of it) answered HTTP 413 Request Entity Too Large to a layer upload; allow larger request bodies there (nginx: client_max_body_size 0) or push through a route without that limit", v.subjID, host)
	}},
	{clsBaseAuth, scopeBuild, isAuth(clsBaseAuth), 40, BaseImagePullAuth, SeverityError, func(v *buildView, r scanResult) string {
		host := orDefault(hostInLine(r.evidence), "the base image registry")
		return fmt.Sprintf("%s: %s refused the credentials for pulling %s; put valid credentials for %s in %s", v.subjID, host, pulledImage(r), host, v.baseSecret())
	}},
	{clsBaseNotFound, scopeBuild, isAuth(clsBaseNotFound), 40, BaseImageNotFound, SeverityError, func(v *buildView, r scanResult) string {
		host := orDefault(hostInLine(r.evidence), "the registry")
		return fmt.Sprintf("%s: %s was not found in %s; fix the FROM reference in spec.containerFile of %s, or the image mirror configuration", v.subjID, pulledImage(r), host, v.moscRef())
	}},
	{clsPushAuth, scopeBuild, isAuth(clsPushAuth), 40, PushAuth, SeverityError, func(v *buildView, _ scanResult) string {
		pushSpec := string(v.s.Build.Spec.RenderedImagePushSpec)
		host := registryHost(pushSpec)
		return fmt.Sprintf("%s: %s refused the push credentials for %s; put valid credentials for %s (exact host name and port) in %s", v.subjID, host, short(pushSpec, 200), host, v.pushSecret())
	}},
	{clsPushDenied, scopeBuild, isAuth(clsPushDenied), 40, PushDenied, SeverityError, func(v *buildView, r scanResult) string {
		pushSpec := string(v.s.Build.Spec.RenderedImagePushSpec)
		if repoMissing.Match(newLineText(lowerASCII(nil, r.evidence), dirPush)) {
			return fmt.Sprintf("%s: %s has no repository %s and does not create one on push (e.g. Amazon ECR); create the repository, then rebuild", v.subjID, registryHost(pushSpec), short(repoOf(pushSpec), 200))
		}
		return fmt.Sprintf("%s: %s accepted the push credentials but denied writing to %s; give the account in %s write access to that repository (or create it)", v.subjID, registryHost(pushSpec), short(repoOf(pushSpec), 200), v.pushSecret())
	}},
	{clsNetwork, scopeBuild, network.Match, 30, RegistryUnreachable, SeverityError, func(v *buildView, r scanResult) string {
		host, doing := hostInLine(r.evidence), "contacting it"
		switch r.dir {
		case dirPull:
			doing = "pulling the base image"
		case dirPush:
			doing = "pushing the image"
			host = orDefault(host, registryHost(string(v.s.Build.Spec.RenderedImagePushSpec)))
		}
		return fmt.Sprintf("%s: the build pod could not reach %s while %s; check DNS, the cluster proxy, egress firewall rules and trusted CAs (image.config.openshift.io/cluster additionalTrustedCA)", v.subjID, orDefault(host, "a registry"), doing)
	}},
	{clsRunStep, scopeBuild, func(t *lineText) bool { return t.has(litBuildingAtStepRun) || t.has(litSubprocessExited) }, 20, BuildStepFailed, SeverityError, func(v *buildView, r scanResult) string {
		exit := "failed"
		if r.exit != "" {
			exit = "exited with status " + r.exit
		}
		return fmt.Sprintf("%s: %s %s; fix that command in spec.containerFile of %s (full log: %s)", v.subjID, stepPhrase(r), exit, v.moscRef(), v.logCmd())
	}},
	// Not a line's class: scanLog gives it to buildah's "COPY --from=<x>: no stage or image found with that name"
	// when no pull error explains it.
	{clsCopyFrom, scopeBuild, func(*lineText) bool { return false }, 35, ContainerfileSyntax, SeverityError, func(v *buildView, _ scanResult) string {
		return fmt.Sprintf("%s: a COPY --from in spec.containerFile of %s names no earlier stage and no image that could be pulled; fix the stage name, or write the image's full name", v.subjID, v.moscRef())
	}},
}

// causeByClass indexes causeTable by class (the first row of a class).
var causeByClass = func() (idx [clsCount]*cause) {
	for i := range causeTable {
		if c := &causeTable[i]; idx[c.cls] == nil {
			idx[c.cls] = c
		}
	}
	return idx
}()

// causeOf returns the row of a class; the zero row (no reason, rank 0) for clsNone.
func causeOf(c class) cause {
	if p := causeByClass[c]; p != nil {
		return *p
	}
	return cause{}
}

// buildRank is the weight of a class in a build log.
func buildRank(c class) int { return causeOf(c).rank }

// buildCauseReasons lists the reasons of the build rows, in table order.
func buildCauseReasons() []Reason {
	var out []Reason
	for _, c := range causeTable {
		if c.scope == scopeBuild && c.reason != "" && !containsReason(out, c.reason) {
			out = append(out, c.reason)
		}
	}
	return out
}

// nodeCauseReasons lists the reasons a node's reason annotation can be classified as.
func nodeCauseReasons() []Reason {
	var out []Reason
	for _, c := range causeTable {
		if (c.scope == scopeNode || c.scope == scopeNodeAny) && c.reason != "" && !containsReason(out, c.reason) {
			out = append(out, c.reason)
		}
	}
	return out
}

func containsReason(rs []Reason, r Reason) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

// rowsByScope holds the rows of causeTable by scope, in table order.
var rowsByScope = func() (by [scopeNodeAny + 1][]*cause) {
	for i := range causeTable {
		c := &causeTable[i]
		by[c.scope] = append(by[c.scope], c)
	}
	return by
}()

// firstInScope returns the class of the first row of sc whose test passes, or clsNone.
func firstInScope(sc scope, t *lineText) class {
	for _, c := range rowsByScope[sc] {
		if c.test == nil || c.test(t) {
			return c.cls
		}
	}
	return clsNone
}

// classifyText classifies one lowercased line or message of a build.
func classifyText(t *lineText) class {
	if at := nodeAnchor.index(t); at >= 0 {
		return firstInScope(scopeNode, newLineText(t.l[at:], t.hint))
	}
	if podAnchor.Match(t) {
		return firstInScope(scopePod, t)
	}
	return firstInScope(scopeBuild, t)
}

// classifyNodeText classifies a node's reason annotation (lowercased): a node class, or clsNone.
func classifyNodeText(t *lineText) class {
	if at := nodeAnchor.index(t); at >= 0 {
		return firstInScope(scopeNode, newLineText(t.l[at:], dirNone))
	}
	return firstInScope(scopeNodeAny, t)
}

// isAuth is the test of the four rows that authClass tells apart.
func isAuth(c class) func(t *lineText) bool {
	return func(t *lineText) bool { return t.authClass() == c }
}

// authClass tells base-pull from push failures by the line's outermost wrapper, or by the hint when there is none.
func (t *lineText) authClass() class {
	if !t.done {
		t.auth, t.done = authClassOf(t), true
	}
	return t.auth
}

func authClassOf(t *lineText) class {
	refused := authRefused.Match(t)
	isDenied := denied.Match(t)
	missing := !refused && !isDenied && notFound.Match(t)
	if !refused && !isDenied && !missing {
		return clsNone
	}
	dir := lineDirection(t.l)
	if dir == dirNone {
		dir = t.hint
	}
	switch dir {
	case dirPull:
		if missing {
			return clsBaseNotFound
		}
		return clsBaseAuth
	case dirPush:
		switch {
		case missing && repoMissing.Match(t):
			// Amazon ECR: "name unknown: The repository with name '<repo>' does not exist in the registry with id
			// '<id>'" (aws-actions/amazon-ecr-login#166): the write has nowhere to go.
			return clsPushDenied
		case missing:
			return clsNone
		case authStrong.Match(t):
			return clsPushAuth
		case isDenied:
			return clsPushDenied
		default:
			return clsPushAuth
		}
	}
	return clsNone
}

// direction says whether a line was written while pulling (the base image) or pushing (the built image).
type direction uint8

const (
	dirNone direction = iota
	dirPull
	dirPush
)

var (
	pullWords = [][]byte{[]byte("creating build container"), []byte("initializing source"), []byte("unable to copy from source"), []byte("reading manifest"), []byte("trying to pull"), []byte("pulling image")}
	pushWords = [][]byte{[]byte("pushing image"), []byte("writing blob"), []byte("initiating layer upload"), []byte("trying to reuse blob"), []byte("checking whether a blob"), []byte("uploading manifest"), []byte("uploading layer"), []byte("writing manifest"), []byte("initializing destination")}
)

// lineDirection returns the direction named by the outermost (leftmost) wrapper of the line.
func lineDirection(l []byte) direction {
	best, dir := len(l)+1, dirNone
	for _, w := range pullWords {
		if i := bytes.Index(l, w); i >= 0 && i < best {
			best, dir = i, dirPull
		}
	}
	for _, w := range pushWords {
		if i := bytes.Index(l, w); i >= 0 && i < best {
			best, dir = i, dirPush
		}
	}
	return dir
}

// The tests of the rows. All patterns match lowercased text (ASCII lowering keeps byte offsets, so indexes map back
// to the original). The regexps are those of failure-signatures.md, adapted to Go's RE2 (no lookahead: the
// exclusions of the document's negative lookaheads are done by the order of the rows).
var (
	// NODE anchor of section 7.
	nodeAnchor = newMatcher("", "failed to update os to", "failed to update os from local storage", "rpm-ostree rebase",
		"ostree-unverified-registry", "ostree-unverified-image", "creating importer", "skopeo proxy method", "failed to invoke method openimage")
	// POD anchor and image-pull shapes of section 8.
	podAnchor = newMatcher("", "rpc error: code =", "back-off pulling image", "failed to pull image", "errimagepull", "imagepullbackoff", "because the registry is unavailable")
	podPull   = newMatcher(`\b(?:errimagepull|imagepullbackoff|registryunavailable)\b|back-off pulling image|failed to pull image "|because the registry is unavailable`,
		"errimagepull", "imagepullbackoff", "registryunavailable", "back-off pulling image", "failed to pull image", "because the registry is unavailable")

	nodeNoCause = newMatcher(`failed to update os to \S+ after retries: timed out waiting for the condition\s*$`, "after retries: timed out waiting for the condition")
	nodeDisk    = newMatcher(`no space left on device|min-free-space-(?:percent|size)[^\n]*would be exceeded`, "no space left on device", "min-free-space-")
	// A stream that broke while the image proxy handed a layer over ("failed to invoke method FinishPipe: ... write
	// |1: broken pipe", coreos/rpm-ostree#5198, ostreedev/ostree-rs-ext#657) is a registry or network problem too.
	nodeNet = newMatcher("", "pinging container registry", "dial tcp", "no such host", "i/o timeout", "connection refused", "no route to host",
		"network is unreachable", "x509: ", "tls: failed to verify", "server gave http response to https client", "tls handshake timeout",
		"broken pipe", "connection reset by peer")
	// containers/image signature/policy_eval_*.go: "A signature was required, but no signature exists", "Running image
	// %s is rejected by policy.", wrapped as "Source image rejected: %s" (ublue-os/bazzite-dx#70, ublue-os/main#403).
	signaturePolicy = newMatcher("", "a signature was required, but no signature exists", "is rejected by policy", "source image rejected",
		"none of the signatures were accepted")
	// ostree-ext's tar import: "ostree-tar: Processing deferred hardlink var/...: Failed to find object", "Processing
	// tar: Failed to commit tar: ExitStatus(...)" (coreos/rpm-ostree#4820, bootc-dev/bootc#637).
	ostreeTar = newMatcher("", "processing deferred hardlink", "failed to commit tar", "ostree-tar: ")
	// ostree deploy: "Failed to find kernel in /usr/lib/modules, /usr/lib/ostree-boot or /boot" (ostreedev/ostree#2987).
	noKernel = newMatcher("", "failed to find kernel in")
	// The MCD's enableUnits (openshift/machine-config-operator pkg/daemon/update.go: "error enabling units: %s" with
	// systemctl's output): "error enabling units: Failed to enable unit: Unit file <x> does not exist."
	unitMissing = newMatcher(`unit file \S+ does not exist`, "unit file ")

	// Section 6.
	containerfile = newMatcher(`unknown (?:dockerfile )?instruction|containerfile validation failed|dockerfile parse error|parsing (?:main|additional) dockerfile|must be of the form: name=value|can't find = in|as a json array|unterminated heredoc|requires (?:at least (?:one|two) arguments?|exactly one argument)|must contain at least one from instruction|instruction must use key=value form`,
		"instruction", "containerfile validation failed", "dockerfile", "name=value", "can't find = in", "as a json array", "unterminated heredoc", "requires ")
	// Section 9 of failure-signatures, each with its public report.
	buildDisk      = newMatcher("", "no space left on device")
	registryQuota  = newMatcher("", "will exceed the configured upper limit", "quota exceeded")
	tooLarge       = newMatcher(`statuscode: 413\b|http 413 response body|413 request entity too large|413 payload too large`, "statuscode: 413", "http 413 response body", "413 request entity too large", "413 payload too large")
	gpgKeyMissing  = newMatcher(`you do not have any gpg public keys installed|public key for \S+ is not installed|gpg check failed`, "you do not have any gpg public keys installed", "public key for ", "gpg check failed")
	depsolve       = newMatcher("", "could not depsolve transaction", "nothing provides ", "conflicting requests", "but none of the providers can be installed", "cannot install both ")
	lintFailed     = newMatcher("", "linting: checks failed")
	contextMissing = newMatcher(`checking on sources under "[^"]*": copier: stat: "[^"]*": no such file or directory|no files found matching`, "checking on sources under ", "no files found matching")
	// Section 5.
	packageNotFound = newMatcher(`no match for argument: |unable to find a match: |no package matches '[^']+'|packages not found: |no matches for ["'][^"']+["'] in repo`,
		"no match for argument: ", "unable to find a match: ", "no package matches '", "packages not found: ", "no matches for ")
	repoUnreachable = newMatcher(`curl error \(\d+\): |could not resolve host|couldn't resolve host name|failed to download metadata (?:for repo|\()|cannot download repomd\.xml|all mirrors were tried|cannot update repo '`,
		"curl error (", "resolve host", "failed to download metadata", "cannot download repomd.xml", "all mirrors were tried", "cannot update repo '")
	// Sections 1 and 2: credentials refused, access denied, image missing.
	authRefused = newMatcher(`unauthorized|authentication required|not authorized|invalid username/password|\b401\b`,
		"unauthorized", "authentication required", "not authorized", "invalid username/password", "401")
	authStrong  = newMatcher(`authentication required|invalid username/password|\b401\b`, "authentication required", "invalid username/password", "401")
	denied      = newMatcher(`(?:^|[:\n] ?)denied:|access to the (?:requested )?resource is denied|\b403\b|forbidden`, "denied", "403", "forbidden")
	notFound    = newMatcher("", "manifest unknown", "name unknown", "repository name not known")
	repoMissing = newMatcher(`the repository with name \S+ does not exist|name unknown: repository name not known`, "the repository with name ", "repository name not known")
	// Section 3.
	network = newMatcher(`pinging container registry|dial tcp[^\n]*?(?:no such host|i/o timeout|connection refused|no route to host|network is unreachable)|lookup \S+(?: on \S+)?: (?:no such host|server misbehaving|i/o timeout)|x509: |tls: failed to verify certificate|server gave http response to https client|tls handshake timeout|client\.timeout exceeded|received unexpected http status: 50[234]`,
		"pinging container registry", "dial tcp", "lookup ", "x509: ", "tls: failed to verify certificate", "server gave http response to https client", "tls handshake timeout", "client.timeout exceeded", "received unexpected http status: 50")
	// RHEL content without entitlements: dnf prints "There are no enabled repositories in ..." (dnf4) or "There are
	// no enabled repos." (yum), e.g. opendatahub-io/notebooks#2408, ot4i/ace-docker#49.
	noEnabledRepos = newMatcher("", "there are no enabled repos")
	// subscription-manager's plugin prints this on every dnf run of an unentitled build, also on a successful one
	// (devfile/developer-images#249), so it only explains a package that is then not found.
	notEntitled = newMatcher("", "not registered with an entitlement server", "not registered to red hat subscription management")
	// c/image shortnames: knative/client#1308 "error creating build container: short-name resolution enforced but
	// cannot prompt without a TTY".
	shortName = newMatcher("", "short-name resolution enforced but cannot prompt without a tty", "did not resolve to an alias and no unqualified-search registries are defined")
	// Docker Hub's throttle: "toomanyrequests: You have reached your pull rate limit" (kata-containers/tests#3832).
	rateLimit = newMatcher(`toomanyrequests|429 too many requests|you have reached your pull rate limit`, "toomanyrequests", "429 too many requests", "pull rate limit")
	// buildah: "Error: COPY --from=<image>: no stage or image found with that name" (containers/podman#14350,
	// containers/buildah#4573); the pull error it hides is only logged at debug level by c/common libimage
	// (pull.go: "Error pulling candidate %s: %v"), and the MCO runs buildah with --log-level=DEBUG.
	litCopyFromMissing = lex.add("no stage or image found with that name")
	litPullCandidate   = lex.add("error pulling candidate ")
	// buildah's RUN failures (section 4), and its debug lines, which are never errors.
	litBuildingAtStep    = lex.add(`building at step "`)
	litBuildingAtStepRun = lex.add(`building at step "run`)
	litSubprocessExited  = lex.add("subprocess exited with status")
	litDebug             = lex.add("level=debug")
	// Docker Hub answers a push without write access with "denied: requested access to the resource is denied" and
	// then a 401 with an empty body, which c/image reports on the next line as "error parsing HTTP 401 response body:
	// unexpected end of JSON input" (containers/image#1293): the denial is the cause, the 401 is noise.
	emptyBody401 = []byte("error parsing http 401 response body")
	// Continuation lines of the old multi-line registry error ("errors:\ndenied: ...\nunauthorized: ...").
	registryCodeRe = regexp.MustCompile(`^(?:denied|unauthorized|manifest unknown|name unknown|forbidden|toomanyrequests|error parsing http 4(?:0[13]|13) response body)\b`)
	stepHeaderRe   = regexp.MustCompile(`^step \d+(?:/\d+)?: ([a-z]+)`)
)

// fromScan turns a classified log line into the build's finding.
func (v *buildView) fromScan(r scanResult) finding {
	c := causeOf(r.cls)
	if c.message == nil {
		return v.unknown()
	}
	return finding{reason: c.reason, message: c.message(v, r), evidence: r.evidence}
}

func stepPhrase(r scanResult) string {
	if r.step != "" {
		return "step " + short(scrub(r.step), 160)
	}
	return "a RUN step"
}

// pulledImage names what a pull failure was pulling: the base image, or the image of a COPY --from.
func pulledImage(r scanResult) string {
	if r.image != "" {
		return "image " + short(r.image, 200) + " (used by COPY --from or FROM)"
	}
	return "the base image"
}

var (
	nothingProvidesRe = regexp.MustCompile(`(?i)nothing provides (.+?) needed by (\S+)`)
	contextPathRe     = regexp.MustCompile(`(?i)copier: stat: "([^"]+)"|no files found matching "([^"]+)"`)
)

// contextPath is the path a COPY or ADD found nothing at.
func contextPath(line string) string {
	if m := contextPathRe.FindStringSubmatch(line); m != nil {
		return firstGroup(m)
	}
	return ""
}
