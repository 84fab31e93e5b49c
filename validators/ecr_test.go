package validators

import (
	"context"
	"testing"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/ocl-guard/ocl-guard/findings"
	"github.com/ocl-guard/ocl-guard/registry"
)

// repositoryFixture is a clusterFixture whose lookups can probe a repository's existence.
type repositoryFixture struct {
	*clusterFixture
	result   registry.Result
	probed   []string
	withAuth []*corev1.Secret
}

func (r *repositoryFixture) ProbeRepositoryWithSecret(_ context.Context, repository string, secret *corev1.Secret) registry.Result {
	r.probed = append(r.probed, repository)
	r.withAuth = append(r.withAuth, secret)
	return r.result
}

func TestValidatePushSpecECRRepository(t *testing.T) {
	const ecr = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
	exists := registry.Result{Reachable: registry.StatusOK, Pull: registry.StatusOK, PullDetail: ecr + " has the repository"}
	missing := registry.Result{Reachable: registry.StatusOK, Pull: registry.StatusFailed, NotFound: true, PullDetail: ecr + " has no such repository (NAME_UNKNOWN)"}
	refused := registry.Result{Reachable: registry.StatusOK, Pull: registry.StatusFailed, CredentialsRefused: true,
		PullDetail: ecr + " refused to let these credentials list the tags of acme/os (HTTP 401), so whether it exists is not known"}
	const notVerified = "spec.renderedImagePushSpec: " + ecr + " is Amazon ECR, which does not create repositories on push: make sure repository acme/os exists " +
		"(aws ecr describe-repositories --repository-names acme/os --region eu-west-1); not verified: "
	for _, tc := range []struct {
		name, pushSpec string
		result         registry.Result
		canProbe       bool
		want           want
		probes         int
	}{
		{"the repository exists", ecr + "/acme/os:latest", exists, true, want{}, 1},
		{"the repository is missing", ecr + "/acme/os:latest", missing, true, want{errs: []string{"spec.renderedImagePushSpec|" + invalid +
			"|repository acme/os does not exist in Amazon ECR registry " + ecr + ", and ECR does not create repositories on push, so every build's push fails; " +
			"create it: aws ecr create-repository --repository-name acme/os --region eu-west-1"}}, 1},
		{"credentials refused: cannot tell", ecr + "/acme/os:latest", refused, true, want{warnings: []string{notVerified + ecr + " refused to let these credentials list"}}, 1},
		{"no prober (offline check)", ecr + "/acme/os:latest", exists, false, want{warnings: []string{notVerified + "registry probes are off"}}, 0},
		{"FIPS endpoint in China", "123456789012.dkr.ecr-fips.cn-north-1.amazonaws.com.cn/acme/os:latest", missing, true, want{errs: []string{"spec.renderedImagePushSpec|" + invalid + "|--region cn-north-1"}}, 1},
		{"not ECR", "quay.io/acme/os:latest", missing, true, want{}, 0},
		{"ECR public creates no private repositories either, but is not this registry", "public.ecr.aws/acme/os:latest", missing, true, want{}, 0},
		{"push spec that does not parse is pushspec-syntax's", ecr + "/Acme/os:latest", missing, true, want{}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mosc := goodConfig()
			mosc.Spec.RenderedImagePushSpec = mcfgv1.ImageTagFormat(tc.pushSpec)
			cluster := newClusterFixture().withSecret(pushSecretFor(ecr, "123456789012.dkr.ecr-fips.cn-north-1.amazonaws.com.cn"))
			var f fixture = cluster
			repos := &repositoryFixture{clusterFixture: cluster, result: tc.result}
			if tc.canProbe {
				f = repos
			}
			checkFindings(t, validate(context.Background(), ValidatePushSpecECRRepository, mosc, f), tc.want)
			if len(repos.probed) != tc.probes {
				t.Errorf("%d probes (%v), want %d", len(repos.probed), repos.probed, tc.probes)
			}
			for _, s := range repos.withAuth {
				if s == nil || s.Type != corev1.SecretTypeDockerConfigJson {
					t.Errorf("probed with %v, want the push secret as the MCO hands it to the build", s)
				}
			}
		})
	}
}

// Under Evaluate the probe is asked once per evaluation, and not at all to a host that gave no answer earlier.
func TestECRRepositoryProbeThroughEvaluate(t *testing.T) {
	const ecr = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
	mosc := goodConfig()
	mosc.Spec.RenderedImagePushSpec = ecr + "/acme/os:latest"
	fixture := &repositoryFixture{clusterFixture: newClusterFixture().withSecret(pushSecretFor(ecr)),
		result: registry.Result{Pull: registry.StatusFailed, NotFound: true}}
	only := func(id RuleID) Action {
		if id == RulePushSpecECRRepository {
			return ActionWarn
		}
		return ActionOff
	}
	v := evaluate(context.Background(), mosc, fixture, only)
	if len(fixture.probed) != 1 || fixture.probed[0] != ecr+"/acme/os" || len(v.Findings.Rules()) != 1 || len(v.Findings.With(findings.Warn)) != 1 {
		t.Fatalf("probed %v, findings %v", fixture.probed, v.Findings)
	}

	fixture.probed = nil
	fixture.clusterFixture.probe = registry.Result{Reachable: registry.StatusUnknown, ReachableDetail: ecr + " did not answer"}
	withReachable := func(id RuleID) Action {
		if id == RulePushSpecECRRepository || id == RulePushSpecReachable {
			return ActionWarn
		}
		return ActionOff
	}
	v = evaluate(context.Background(), mosc, fixture, withReachable)
	if len(fixture.probed) != 0 {
		t.Errorf("probed a silent host again: %v", fixture.probed)
	}
	if w := v.Findings.With(findings.Warn); len(w) != 2 {
		t.Errorf("warnings %q, want pushspec-reachable's and pushspec-ecr-repository's", w)
	}
}
