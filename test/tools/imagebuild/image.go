package main

import (
	"archive/tar"
	"bytes"
	"embed"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// What the image is. The Dockerfile declares the same (TestDockerfileMatchesBuilder holds them together).
const (
	// BinaryPath is where the binary lives; PATH holds its directory, so `kubectl exec ... -- ocl-guard` works.
	BinaryPath = "/usr/local/bin/ocl-guard"
	// User is distroless's nonroot user. OpenShift's restricted SCC replaces the UID by one from the namespace's
	// range and keeps group 0, so whatever must be writable is owned by group 0 and group-writable.
	User = "65532:65532"
	// Home is writable by User and by any UID in group 0.
	Home = "/home/nonroot"
	// CABundle is where Go's crypto/x509 looks first on Linux.
	CABundle = "/etc/ssl/certs/ca-certificates.crt"

	labelPrefix = "org.opencontainers.image."
	source      = "https://github.com/ocl-guard/ocl-guard"
	title       = "ocl-guard"
	description = "Admission webhook, checker and CLI that stop broken OpenShift On-Cluster Layering configurations and diagnose their builds and rollouts"
)

// Env is the image's environment.
var Env = []string{"PATH=/usr/local/bin", "HOME=" + Home}

// rootfs holds /etc/passwd, /etc/group and /etc/nsswitch.conf; the Dockerfile copies the same files.
//
//go:embed rootfs
var rootfs embed.FS

// Metadata describes the build; it becomes the org.opencontainers.image.* labels and every timestamp.
type Metadata struct {
	Version  string
	Revision string
	// Created is the commit time, so that the same commit always gives the same image digest.
	Created  time.Time
	Licenses string
}

// Labels are the org.opencontainers.image.* labels (annotation keys of the OCI image spec, annotations.md).
func (m Metadata) Labels() map[string]string {
	return map[string]string{
		labelPrefix + "source":      source,
		labelPrefix + "title":       title,
		labelPrefix + "description": description,
		labelPrefix + "licenses":    m.Licenses,
		labelPrefix + "version":     m.Version,
		labelPrefix + "revision":    m.Revision,
		labelPrefix + "created":     m.Created.UTC().Format(time.RFC3339),
	}
}

// BuildArgs are the Dockerfile's --build-arg flags that give its image the same labels.
func (m Metadata) BuildArgs() []string {
	return []string{
		"--build-arg=VERSION=" + m.Version,
		"--build-arg=REVISION=" + m.Revision,
		"--build-arg=CREATED=" + m.Created.UTC().Format(time.RFC3339),
		"--build-arg=LICENSES=" + m.Licenses,
	}
}

// Platform is one image of the index, with the static binary built for it.
type Platform struct {
	Arch   string // GOARCH: amd64, arm64
	Binary string // path of the ocl-guard binary for linux/Arch
}

// BuildIndex builds the multi-platform image index. Each image has two layers: the base (users, CA bundle,
// writable directories), identical for every platform and version, and the binary.
func BuildIndex(m Metadata, caBundle string, platforms []Platform) (v1.ImageIndex, error) {
	base, err := baseLayer(m.Created, caBundle)
	if err != nil {
		return nil, err
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, p := range platforms {
		img, err := buildImage(m, base, p)
		if err != nil {
			return nil, fmt.Errorf("linux/%s: %w", p.Arch, err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: p.Arch}},
		})
	}
	return mutate.Annotations(idx, m.Labels()).(v1.ImageIndex), nil
}

func buildImage(m Metadata, base v1.Layer, p Platform) (v1.Image, error) {
	app, err := binaryLayer(m.Created, p.Binary)
	if err != nil {
		return nil, err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.ConfigFile(img, &v1.ConfigFile{
		Architecture: p.Arch,
		OS:           "linux",
		Created:      v1.Time{Time: m.Created},
		Config: v1.Config{
			Entrypoint: []string{BinaryPath},
			User:       User,
			Env:        Env,
			WorkingDir: Home,
			Labels:     m.Labels(),
		},
		RootFS: v1.RootFS{Type: "layers"},
	})
	if err != nil {
		return nil, err
	}
	created := v1.Time{Time: m.Created}
	return mutate.Append(img,
		mutate.Addendum{Layer: base, MediaType: types.OCILayer, History: v1.History{Created: created, CreatedBy: "imagebuild: users, CA bundle, /tmp, " + Home}},
		mutate.Addendum{Layer: app, MediaType: types.OCILayer, History: v1.History{Created: created, CreatedBy: "imagebuild: " + BinaryPath}},
	)
}

// entry is one file or directory of a layer.
type entry struct {
	name     string // without the leading slash
	mode     int64  // permission bits, plus 01000 (sticky) for /tmp
	uid, gid int
	dir      bool
	data     []byte
}

func baseLayer(created time.Time, caBundle string) (v1.Layer, error) {
	ca, err := os.ReadFile(caBundle)
	if err != nil {
		return nil, fmt.Errorf("reading the CA bundle (Debian: apt-get install ca-certificates): %w", err)
	}
	entries := []entry{
		{name: "etc", mode: 0o755, dir: true},
	}
	etc, err := fs.ReadDir(rootfs, "rootfs/etc")
	if err != nil {
		return nil, err
	}
	for _, f := range etc {
		data, err := rootfs.ReadFile("rootfs/etc/" + f.Name())
		if err != nil {
			return nil, err
		}
		entries = append(entries, entry{name: "etc/" + f.Name(), mode: 0o644, data: data})
	}
	entries = append(entries,
		entry{name: "etc/ssl", mode: 0o755, dir: true},
		entry{name: "etc/ssl/certs", mode: 0o755, dir: true},
		entry{name: CABundle[1:], mode: 0o644, data: ca},
		entry{name: "home", mode: 0o755, dir: true},
		entry{name: Home[1:], mode: 0o770, uid: 65532, gid: 0, dir: true},
		entry{name: "tmp", mode: 0o1777, dir: true},
	)
	return layer(created, entries)
}

func binaryLayer(created time.Time, binary string) (v1.Layer, error) {
	data, err := os.ReadFile(binary)
	if err != nil {
		return nil, err
	}
	var entries []entry
	for dir := path.Dir(BinaryPath[1:]); ; {
		entries = append([]entry{{name: dir, mode: 0o755, dir: true}}, entries...)
		if dir = path.Dir(dir); dir == "." {
			break
		}
	}
	return layer(created, append(entries, entry{name: BinaryPath[1:], mode: 0o755, data: data}))
}

// layer writes entries as a tar with fixed times and owners, so its digest depends only on the content.
func layer(created time.Time, entries []entry) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{
			Name: e.name, Mode: e.mode, Uid: e.uid, Gid: e.gid, ModTime: created, Format: tar.FormatPAX,
			Typeflag: tar.TypeReg, Size: int64(len(e.data)),
		}
		if e.dir {
			h.Name += "/"
			h.Typeflag = tar.TypeDir
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer))
}
