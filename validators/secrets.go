package validators

import (
	"context"
	"fmt"
	"slices"

	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/ocl-guard/ocl-guard/mco"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var (
	pushSecretPath = field.NewPath("spec", "renderedImagePushSecret", "name")
	pullSecretPath = field.NewPath("spec", "baseImagePullSecret", "name")
)

// secretUse is one secret the MCO will read for a MachineOSConfig.
type secretUse struct {
	path *field.Path
	name string
	role string
	// fallback marks global-pull-secret-copy, which the MCO owns: problems with it are warnings, never denials,
	// because the user cannot fix them on the MachineOSConfig and the MCO may not have created it yet.
	fallback bool
}

func secretUses(mosc *mcfgv1.MachineOSConfig) []secretUse {
	uses := []secretUse{{path: pushSecretPath, name: mosc.Spec.RenderedImagePushSecret.Name, role: "push secret"}}
	if ref := mosc.Spec.BaseImagePullSecret; ref != nil && ref.Name != "" {
		uses = append(uses, secretUse{path: pullSecretPath, name: ref.Name, role: "base image pull secret"})
	} else {
		uses = append(uses, secretUse{path: pullSecretPath, name: mco.GlobalPullSecretCopy, role: "base image pull secret", fallback: true})
	}
	return uses
}

// ValidateSecretsExist is rule secret-exists.
func ValidateSecretsExist(ctx context.Context, in *Input) Findings {
	mosc := in.Config
	var f Findings
	for _, use := range secretUses(mosc) {
		if use.name == "" {
			continue // the CRD requires the push secret name; nothing to look up
		}
		_, err := in.Facts.Secret(use.name)
		switch {
		case err == nil:
		case !apierrors.IsNotFound(err):
			f.warn("could not read Secret %s/%s (%s): %v", mco.Namespace, use.name, use.role, err)
		case use.fallback:
			checkClusterPullSecret(ctx, in, &f)
		default:
			f.add(&field.Error{Type: field.ErrorTypeNotFound, Field: use.path.String(), BadValue: use.name, Detail: fmt.Sprintf(
				"no Secret %q in namespace %s; the MCO reads the %s only there: create it with "+
					"'oc create secret docker-registry %s -n %s --docker-server=<registry> ...' or name an existing one",
				use.name, mco.Namespace, use.role, use.name, mco.Namespace)})
		}
	}
	return f
}

// checkClusterPullSecret explains the fallback when global-pull-secret-copy is absent: that is normal before the
// first pool is layered, so it is never a denial.
func checkClusterPullSecret(ctx context.Context, in *Input, f *Findings) {
	_, err := in.Facts.ClusterPullSecret.Get()
	switch {
	case err == nil:
		f.warn("baseImagePullSecret unset: the MCO uses %s, a copy of openshift-config/pull-secret", mco.GlobalPullSecretCopy)
	case apierrors.IsNotFound(err):
		f.warn("baseImagePullSecret unset and openshift-config/pull-secret missing: base image pulls will fail")
	default:
		f.warn("baseImagePullSecret unset: the MCO falls back to %s, which does not exist yet (could not read openshift-config/pull-secret: %v)", mco.GlobalPullSecretCopy, err)
	}
}

// ValidateSecretFormat is rule secret-format.
func ValidateSecretFormat(ctx context.Context, in *Input) Findings {
	mosc := in.Config
	var f Findings
	for _, use := range secretUses(mosc) {
		if use.name == "" {
			continue
		}
		secret, err := in.Facts.Secret(use.name)
		if err != nil {
			continue // secret-exists reports it
		}
		if _, problem := usableCredentials(secret, in.dockerConfig(secret)); problem != "" {
			if use.fallback {
				f.warn("%s/%s, the fallback base image pull secret, %s", mco.Namespace, use.name, problem)
				continue
			}
			f.add(field.Invalid(use.path, use.name, fmt.Sprintf("the %s %s", use.role, problem)))
		}
	}
	return f
}

// ValidateSecretRegistryAuth is rule secret-registry-auth: the push secret must hold credentials that the build's
// push would send for renderedImagePushSpec. buildah picks them the way containers/image does (package
// registry/authfile): exact keys, namespace by namespace, no wildcards, only "auth".
func ValidateSecretRegistryAuth(ctx context.Context, in *Input) Findings {
	mosc := in.Config
	var f Findings
	secretName := mosc.Spec.RenderedImagePushSecret.Name
	ref, err := reference.ParseNamed(string(mosc.Spec.RenderedImagePushSpec))
	if err != nil || secretName == "" {
		return f // pushspec-syntax reports a push spec that does not parse
	}
	secret, err := in.Facts.Secret(secretName)
	if err != nil {
		return f
	}
	c := in.dockerConfig(secret)
	if c.problem != "" || len(withCredential(c.entries)) == 0 {
		return f // secret-format reports it
	}
	pushCredentials(&f, secretName, c.entries, ref.Name())
	return f
}

// pushRepository parses the push spec the way the MCO does and returns its repository for credential matching,
// once per evaluation: five rules ask.
func (in *Input) pushRepository() (name.Repository, error) {
	if in.push == nil {
		in.push = &parsedPushSpec{}
		ref, err := reference.ParseNamed(string(in.Config.Spec.RenderedImagePushSpec))
		if err == nil {
			in.push.repo, err = name.NewRepository(ref.Name(), name.StrictValidation)
		}
		in.push.err = err
	}
	return in.push.repo, in.push.err
}

type parsedPushSpec struct {
	repo name.Repository
	err  error
}

// usableCredentials checks a Secret the way the MCO reads it for a build and returns the registry keys that hold a
// credential (raw keys: show them with RegistryKey). problem is empty when the secret is usable; it never quotes
// secret content.
func usableCredentials(secret *corev1.Secret, c *secretCredentials) (registries []string, problem string) {
	if c.problem != "" {
		return nil, c.problem
	}
	if registries = withCredential(c.entries); len(registries) == 0 {
		return nil, fmt.Sprintf("%q holds no usable credential (no entry has auth or username and password)", secret.Name)
	}
	return registries, ""
}

var secretKeyForType = map[corev1.SecretType]string{
	corev1.SecretTypeDockerConfigJson: corev1.DockerConfigJsonKey,
	corev1.SecretTypeDockercfg:        corev1.DockerConfigKey,
}

func dockerConfigEntries(secret *corev1.Secret) (map[string]dockerAuthEntry, string) {
	key, ok := secretKeyForType[secret.Type]
	if !ok {
		return nil, fmt.Sprintf("%q has type %q; the MCO accepts only %s or %s: recreate it with 'oc create secret docker-registry'",
			secret.Name, secret.Type, corev1.SecretTypeDockerConfigJson, corev1.SecretTypeDockercfg)
	}
	data, ok := secret.Data[key]
	if !ok {
		return nil, fmt.Sprintf("%q has no %q key, where a %s secret keeps its registry credentials", secret.Name, key, secret.Type)
	}
	if len(data) == 0 {
		return nil, fmt.Sprintf("%q has an empty %q key; put the registry credentials there", secret.Name, key)
	}
	for otherType, otherKey := range secretKeyForType {
		if _, found := secret.Data[otherKey]; found && otherType != secret.Type {
			return nil, fmt.Sprintf("%q has type %s but also a %q key, which the MCO refuses; remove that key", secret.Name, secret.Type, otherKey)
		}
	}
	entries, problem := parseDockerConfig(data)
	if problem != "" {
		return nil, fmt.Sprintf("%q: %s", secret.Name, problem)
	}
	return entries, ""
}

// withCredential returns the sorted registry keys whose entry holds a credential.
func withCredential(entries map[string]dockerAuthEntry) []string {
	var registries []string
	for registry, entry := range entries {
		if entry.hasCredential() {
			registries = append(registries, registry)
		}
	}
	slices.Sort(registries)
	return registries
}

func canonicalFrom(secret *corev1.Secret, entries map[string]dockerAuthEntry) *corev1.Secret {
	out := secret.DeepCopy()
	out.Type = corev1.SecretTypeDockerConfigJson
	out.Data = map[string][]byte{corev1.DockerConfigJsonKey: canonicalDockerConfigJSON(entries)}
	return out
}
