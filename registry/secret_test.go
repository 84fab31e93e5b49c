package registry

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func dockerConfigSecret(t *testing.T, host, user, pass, resourceVersion string) *corev1.Secret {
	t.Helper()
	cfg, err := json.Marshal(map[string]any{"auths": map[string]any{host: map[string]string{
		"username": user, "password": pass, "auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))}}})
	if err != nil {
		t.Fatal(err)
	}
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "push", UID: types.UID("uid-1"), ResourceVersion: resourceVersion},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: cfg},
	}
}

func TestProbeWithSecret(t *testing.T) {
	srv, pings := newCountingBasicRegistry(t, 0)
	p := newTestProber(t, srv, nil)
	repo := hostOf(srv) + "/ocl/os-image"
	ctx := context.Background()

	r := p.ProbeWithSecret(ctx, repo, dockerConfigSecret(t, hostOf(srv), testUser, testPassword, "10"))
	if r.Reachable != StatusOK || r.Push != StatusUnknown || r.CredentialsRefused {
		t.Errorf("good secret: %+v", r)
	}
	if r := p.ProbeWithSecret(ctx, repo, dockerConfigSecret(t, hostOf(srv), testUser, testPassword, "10")); !r.Cached {
		t.Error("the same secret version was probed again")
	}
	r = p.ProbeWithSecret(ctx, repo, dockerConfigSecret(t, hostOf(srv), testUser, "wrong", "11"))
	if r.Cached || !r.CredentialsRefused || r.Push != StatusFailed {
		t.Errorf("edited secret with a wrong password: %+v", r)
	}
	checkNoSecret(t, r)
	r = p.ProbeWithSecret(ctx, repo, dockerConfigSecret(t, "elsewhere.example", testUser, testPassword, "12"))
	if r.Push != StatusSkipped || !strings.Contains(r.PushDetail, `Secret "push" has no key the build's tools use for `+repo) {
		t.Errorf("secret for another host: %+v", r)
	}
	if got := pings.Load(); got != 3 {
		t.Errorf("%d probes, want 3", got)
	}

	// containers/image reads only "auth": username and password alone send nothing (package authfile).
	userPass := dockerConfigSecret(t, hostOf(srv), testUser, testPassword, "14")
	userPass.Data[corev1.DockerConfigJsonKey] = []byte(`{"auths":{"` + hostOf(srv) + `":{"username":"` + testUser + `","password":"` + testPassword + `"}}}`)
	r = p.ProbeWithSecret(ctx, repo, userPass)
	if r.Push != StatusSkipped || !strings.Contains(r.PushDetail, `has "username" and "password" and no "auth"`) {
		t.Errorf("username and password only: %+v", r)
	}
	checkNoSecret(t, r)
	// A kubelet wildcard matches the host for pods, not for the build.
	_, port, _ := strings.Cut(hostOf(srv), ":")
	wildcard := dockerConfigSecret(t, "127.0.0.*:"+port, testUser, testPassword, "15")
	r = p.ProbeWithSecret(ctx, repo, wildcard)
	if r.Push != StatusSkipped || !strings.Contains(r.PushDetail, "wildcard keys are a kubelet feature: buildah ignores them") {
		t.Errorf("a wildcard key: %+v", r)
	}

	broken := dockerConfigSecret(t, hostOf(srv), testUser, testPassword, "13")
	broken.Data[corev1.DockerConfigJsonKey] = []byte(`{"auths": ` + testPassword)
	r = p.ProbeWithSecret(ctx, repo, broken)
	if r.Reachable != StatusSkipped || !strings.Contains(r.ReachableDetail, `Secret "push" does not hold a docker config that parses`) {
		t.Errorf("broken secret: %+v", r)
	}
	checkNoSecret(t, r)

	if r := p.ProbeWithSecret(ctx, repo, nil); r.Reachable != StatusOK || r.Push != StatusSkipped {
		t.Errorf("nil secret: %+v", r)
	}
}
