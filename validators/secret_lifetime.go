package validators

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// serviceAccountNameAnnotation marks the token secrets Kubernetes and OpenShift make for a ServiceAccount.
const serviceAccountNameAnnotation = corev1.ServiceAccountNameKey

// longLivedAdvice is the fix both findings of push-secret-lifetime name.
const longLivedAdvice = "use a long-lived credential, e.g. a registry robot account, in a kubernetes.io/dockerconfigjson secret"

// ValidatePushSecretLifetime is rule push-secret-lifetime: a push secret that is a ServiceAccount's dockercfg
// secret (builder-dockercfg-*, the example in the OpenShift docs) is rotated by OpenShift, and a credential that
// is a JWT expires at its exp claim; either way builds start failing at push without any change to the config.
func ValidatePushSecretLifetime(ctx context.Context, in *Input) Findings {
	mosc := in.Config
	var f Findings
	name := mosc.Spec.RenderedImagePushSecret.Name
	secret, err := in.Facts.Secret(name)
	if err != nil {
		return f
	}
	if sa := rotatingServiceAccount(secret); sa != "" {
		f.add(field.Invalid(pushSecretPath, name, fmt.Sprintf(
			"is the dockercfg token secret of ServiceAccount %s, which OpenShift rotates, and builds then push with a "+
				"revoked token; %s", sa, longLivedAdvice)))
		return f
	}
	c := in.dockerConfig(secret)
	entries := c.entries
	if c.problem != "" {
		return f // secret-format reports it
	}
	now := in.Now
	for _, host := range withCredential(entries) {
		exp, ok := jwtExpiry(entries[host].secretPart())
		if !ok || exp.Sub(now) > in.Settings.window() {
			continue
		}
		// The message names the expiry, which the secret fixes; how far away it is changes every day, so it is
		// evidence, and an audit of an unchanged secret rewrites nothing.
		when := "expired at " + exp.UTC().Format(time.RFC3339)
		if exp.After(now) {
			when = "expires at " + exp.UTC().Format(time.RFC3339)
			f.evidence("%s: in %s", host, roundDays(exp.Sub(now)))
		}
		f.add(field.Invalid(pushSecretPath, name, fmt.Sprintf(
			"the credential for %s is a token that %s, and builds then fail to push; %s", host, when, longLivedAdvice)))
	}
	return f
}

// rotatingServiceAccount names the ServiceAccount whose rotating dockercfg secret this is, or "".
func rotatingServiceAccount(s *corev1.Secret) string {
	if s.Type != corev1.SecretTypeDockercfg {
		return ""
	}
	if sa := s.Annotations[serviceAccountNameAnnotation]; sa != "" {
		return sa
	}
	for _, owner := range s.OwnerReferences {
		if owner.Kind == "ServiceAccount" && owner.APIVersion == "v1" {
			return owner.Name
		}
	}
	return ""
}

// secretPart is the credential of an entry: the password, or the part of auth after "user:".
func (e dockerAuthEntry) secretPart() string {
	if e.Password != "" {
		return e.Password
	}
	decoded, err := base64.StdEncoding.DecodeString(e.Auth)
	if err != nil {
		return ""
	}
	_, pass, _ := strings.Cut(string(decoded), ":")
	return pass
}

// jwtExpiry reads the exp claim of a JWT without verifying it: the registry verifies; this only tells when the
// registry will stop accepting it.
func jwtExpiry(token string) (time.Time, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp *float64 `json:"exp"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.Exp == nil || math.IsNaN(*claims.Exp) || math.Abs(*claims.Exp) > 1<<53 {
		return time.Time{}, false
	}
	return time.Unix(int64(*claims.Exp), 0), true
}

func roundDays(d time.Duration) string {
	if d < 48*time.Hour {
		return d.Round(time.Minute).String()
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}
