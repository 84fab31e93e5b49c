package registrytest

import (
	"crypto/tls"
	"net/http"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// PushRandomImage pushes a small random image to path:tag as Writer and returns its reference by digest
// ("<host>/<path>@sha256:..."), for tests of code that pulls or inspects images.
func (r *Registry) PushRandomImage(path, tag string) (string, error) {
	img, err := random.Image(256, 1)
	if err != nil {
		return "", err
	}
	ref, err := name.NewTag(r.Repository(path) + ":" + tag)
	if err != nil {
		return "", err
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: r.CAPool, MinVersion: tls.VersionTLS12}}
	defer tr.CloseIdleConnections()
	if err := remote.Write(ref, img, remote.WithAuth(authn.FromConfig(authn.AuthConfig{Username: Writer.Name, Password: Writer.Password})),
		remote.WithTransport(tr)); err != nil {
		return "", err
	}
	digest, err := img.Digest()
	if err != nil {
		return "", err
	}
	return r.Repository(path) + "@" + digest.String(), nil
}
