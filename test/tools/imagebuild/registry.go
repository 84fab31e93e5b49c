package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// refNameAnnotation tags the index inside the OCI layout (image-layout.md of the OCI image spec).
const refNameAnnotation = "org.opencontainers.image.ref.name"

// writeLayout replaces dir with an OCI image layout holding idx, tagged with version.
func writeLayout(dir string, idx v1.ImageIndex, version string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	return p.AppendIndex(idx, layout.WithAnnotations(map[string]string{refNameAnnotation: version}))
}

// readLayout returns the image index that writeLayout stored in dir, and the version it was tagged with.
func readLayout(dir string) (v1.ImageIndex, string, error) {
	outer, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, "", fmt.Errorf("reading the OCI layout %s (run 'make image' first): %w", dir, err)
	}
	m, err := outer.IndexManifest()
	if err != nil {
		return nil, "", err
	}
	if len(m.Manifests) != 1 {
		return nil, "", fmt.Errorf("the OCI layout %s holds %d entries, want the one index 'make image' writes", dir, len(m.Manifests))
	}
	idx, err := outer.ImageIndex(m.Manifests[0].Digest)
	return idx, m.Manifests[0].Annotations[refNameAnnotation], err
}

// push uploads idx to ref with the credentials of the docker config keychain (what docker login or podman login
// wrote: $DOCKER_CONFIG/config.json, ~/.docker/config.json, $REGISTRY_AUTH_FILE, containers/auth.json), trusting
// the system roots plus caFile when set. It returns the pushed digest.
func push(ctx context.Context, idx v1.ImageIndex, ref, caFile string) (name.Digest, error) {
	tag, err := name.ParseReference(ref)
	if err != nil {
		return name.Digest{}, fmt.Errorf("image reference %q: %w", ref, err)
	}
	transport, err := transportTrusting(caFile)
	if err != nil {
		return name.Digest{}, err
	}
	if err := remote.WriteIndex(tag, idx, remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain), remote.WithTransport(transport)); err != nil {
		return name.Digest{}, fmt.Errorf("pushing to %s: %w", tag.Context().RegistryStr(), err)
	}
	digest, err := idx.Digest()
	if err != nil {
		return name.Digest{}, err
	}
	return tag.Context().Digest(digest.String()), nil
}

func transportTrusting(caFile string) (http.RoundTripper, error) {
	t := remote.DefaultTransport.(*http.Transport).Clone()
	if caFile == "" {
		return t, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("-ca-file: %w", err)
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("-ca-file %s: no PEM certificate in it", caFile)
	}
	t.TLSClientConfig.RootCAs = pool
	return t, nil
}
