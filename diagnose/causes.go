package diagnose

import "fmt"

// textCause is what a class of error text means for a build: its reason and the message naming the fix.
type textCause struct {
	reason  Reason
	message func(v *buildView, r scanResult) string
}

// textCauses maps each class found in build error text to its reason; grep a reason to find its message.
var textCauses = map[class]textCause{
	clsContainerfile: {ContainerfileSyntax, func(v *buildView, _ scanResult) string {
		return fmt.Sprintf("%s: the Containerfile does not parse; fix spec.containerFile of %s", v.subjID, v.moscRef())
	}},
	clsRepo: {RepoUnreachable, func(v *buildView, r scanResult) string {
		repo := "a package repository"
		if id := repoID(r.evidence); id != "" {
			repo = "package repository " + id
		}
		return fmt.Sprintf("%s: %s could not reach %s; check the repository URL, the cluster proxy and, for Red Hat CDN repositories, the entitlement certificates", v.subjID, stepPhrase(r), short(repo, 200))
	}},
	clsPackage: {PackageNotFound, func(v *buildView, r scanResult) string {
		what := "a package was not found"
		if pkgs := packageNames(r.evidence); pkgs != "" {
			what = "package(s) not found: " + short(pkgs, 200)
		}
		return fmt.Sprintf("%s: %s in %s; fix the package name or enable the repository that ships it in spec.containerFile of %s", v.subjID, what, stepPhrase(r), v.moscRef())
	}},
	clsBaseAuth: {BaseImagePullAuth, func(v *buildView, r scanResult) string {
		host := orDefault(hostInLine(r.evidence), "the base image registry")
		return fmt.Sprintf("%s: %s refused the credentials for pulling %s; put valid credentials for %s in %s", v.subjID, host, pulledImage(r), host, v.baseSecret())
	}},
	clsBaseNotFound: {BaseImageNotFound, func(v *buildView, r scanResult) string {
		host := orDefault(hostInLine(r.evidence), "the registry")
		return fmt.Sprintf("%s: %s was not found in %s; fix the FROM reference in spec.containerFile of %s, or the image mirror configuration", v.subjID, pulledImage(r), host, v.moscRef())
	}},
	clsPushAuth: {PushAuth, func(v *buildView, _ scanResult) string {
		pushSpec := string(v.s.Build.Spec.RenderedImagePushSpec)
		host := registryHost(pushSpec)
		return fmt.Sprintf("%s: %s refused the push credentials for %s; put valid credentials for %s (exact host name and port) in %s", v.subjID, host, short(pushSpec, 200), host, v.pushSecret())
	}},
	clsPushDenied: {PushDenied, func(v *buildView, _ scanResult) string {
		pushSpec := string(v.s.Build.Spec.RenderedImagePushSpec)
		return fmt.Sprintf("%s: %s accepted the push credentials but denied writing to %s; give the account in %s write access to that repository (or create it)", v.subjID, registryHost(pushSpec), short(repoOf(pushSpec), 200), v.pushSecret())
	}},
	clsNetwork: {RegistryUnreachable, func(v *buildView, r scanResult) string {
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
	clsEntitlement: {EntitlementMissing, func(v *buildView, r scanResult) string {
		return fmt.Sprintf("%s: %s needed Red Hat content but the build has no entitlement (not a mistake in the command); create Secret etc-pki-entitlement in openshift-config-managed (the MCO copies it into builds as etc-pki-entitlement-<pool>) or add a .repo file for that content to spec.containerFile of %s", v.subjID, stepPhrase(r), v.moscRef())
	}},
	clsShortName: {ImageShortName, func(v *buildView, _ scanResult) string {
		return fmt.Sprintf("%s: an image in spec.containerFile of %s has no registry host and buildah cannot ask which registry to use; write the full name (e.g. registry.access.redhat.com/ubi9/ubi:latest) in FROM and COPY --from", v.subjID, v.moscRef())
	}},
	clsRateLimit: {RegistryRateLimited, func(v *buildView, r scanResult) string {
		host := orDefault(hostInLine(r.evidence), "the registry")
		return fmt.Sprintf("%s: %s throttled the build (rate limit, HTTP 429) while pulling %s; add credentials for %s to %s, mirror the image, or rebuild later (oc annotate machineosconfig/%s machineconfiguration.openshift.io/rebuild=)", v.subjID, host, pulledImage(r), host, v.baseSecret(), v.moscOrPlaceholder())
	}},
	clsCopyFrom: {ContainerfileSyntax, func(v *buildView, _ scanResult) string {
		return fmt.Sprintf("%s: a COPY --from in spec.containerFile of %s names no earlier stage and no image that could be pulled; fix the stage name, or write the image's full name", v.subjID, v.moscRef())
	}},
	clsRunStep: {BuildStepFailed, func(v *buildView, r scanResult) string {
		exit := "failed"
		if r.exit != "" {
			exit = "exited with status " + r.exit
		}
		return fmt.Sprintf("%s: %s %s; fix that command in spec.containerFile of %s (full log: %s)", v.subjID, stepPhrase(r), exit, v.moscRef(), v.logCmd())
	}},
}

// textReasons lists the reasons of textCauses in class order.
func textReasons() []Reason {
	var rs []Reason
	for c := clsNone; c < clsCount; c++ {
		if tc, ok := textCauses[c]; ok {
			rs = append(rs, tc.reason)
		}
	}
	return rs
}

// fromScan turns a classified log line into the build's diagnosis.
func (v *buildView) fromScan(r scanResult) Diagnosis {
	tc, ok := textCauses[r.cls]
	if !ok {
		return v.unknown()
	}
	return newDiagnosis(tc.reason, "", tc.message(v, r), r.evidence)
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
