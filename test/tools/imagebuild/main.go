// Command imagebuild is `make image` and `make push`: it builds the ocl-guard container image without a container
// engine (go-containerregistry), from scratch: a static binary, a CA bundle, a nonroot user, and directories that an
// arbitrary UID in group 0 (OpenShift's restricted SCC) can write. The image is reproducible: every timestamp is the
// commit time.
//
//	imagebuild build [-out dist/oci] [-platforms linux/amd64,linux/arm64]   an OCI layout
//	imagebuild push -repository <registry>/ocl-guard [-tag t] [-layout dist/oci]   push it (docker/podman login)
//	imagebuild build-args                                                   the Dockerfile's --build-arg flags
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

const defaultLayout = "dist/oci"

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "imagebuild: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: imagebuild build|push|build-args [flags]")
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	fs := flag.NewFlagSet("imagebuild "+args[0], flag.ContinueOnError)
	licenses := fs.String("licenses", "NOASSERTION", "SPDX license expression for the org.opencontainers.image.licenses label")
	switch args[0] {
	case "build":
		out := fs.String("out", defaultLayout, "directory of the OCI image layout to write (replaced)")
		platforms := fs.String("platforms", "linux/amd64,linux/arm64", "comma-separated platforms (linux only)")
		ca := fs.String("ca-bundle", CABundle, "PEM CA bundle to put into the image (Debian's ca-certificates)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		return build(*out, *platforms, *ca, *licenses)
	case "push":
		dir := fs.String("layout", defaultLayout, "OCI image layout written by 'imagebuild build'")
		repository := fs.String("repository", "", "where to push, e.g. quay.io/acme/ocl-guard")
		tag := fs.String("tag", "", "tag to push; the version the layout was built from (git describe) when empty")
		caFile := fs.String("ca-file", "", "PEM CA certificates to trust for the registry, in addition to the system roots")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *repository == "" {
			return fmt.Errorf("-repository is required (make push REGISTRY=quay.io/acme)")
		}
		idx, version, err := readLayout(*dir)
		if err != nil {
			return err
		}
		ref := *repository + ":" + cmp.Or(*tag, version)
		digest, err := push(ctx, idx, ref, *caFile)
		if err != nil {
			return err
		}
		fmt.Printf("pushed %s\n%s\n", ref, digest)
		return nil
	case "build-args":
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		root, err := repoRoot()
		if err != nil {
			return err
		}
		m, err := gitMetadata(root, *licenses)
		if err != nil {
			return err
		}
		fmt.Println(strings.Join(m.BuildArgs(), " "))
		return nil
	}
	return fmt.Errorf("unknown command %q: use build, push or build-args", args[0])
}

func build(out, platformList, caBundle, licenses string) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	m, err := gitMetadata(root, licenses)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "imagebuild-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	var platforms []Platform
	for _, p := range strings.Split(platformList, ",") {
		arch, ok := strings.CutPrefix(strings.TrimSpace(p), "linux/")
		if !ok || arch == "" {
			return fmt.Errorf("-platforms: %q is not linux/<arch>", p)
		}
		bin, err := compile(root, tmp, arch)
		if err != nil {
			return err
		}
		platforms = append(platforms, Platform{Arch: arch, Binary: bin})
	}
	idx, err := BuildIndex(m, caBundle, platforms)
	if err != nil {
		return err
	}
	if err := writeLayout(out, idx, m.Version); err != nil {
		return err
	}
	return describe(out, m, idx)
}

// describe prints what was built: the index digest and each image's compressed size.
func describe(out string, m Metadata, idx v1.ImageIndex) error {
	digest, err := idx.Digest()
	if err != nil {
		return err
	}
	fmt.Printf("wrote %s: ocl-guard %s (%s), index %s\n", out, m.Version, m.Revision, digest)
	manifest, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	for _, desc := range manifest.Manifests {
		img, err := idx.Image(desc.Digest)
		if err != nil {
			return err
		}
		size, err := compressedSize(img)
		if err != nil {
			return err
		}
		fmt.Printf("  %s/%s %s  %.1f MiB compressed\n", desc.Platform.OS, desc.Platform.Architecture, desc.Digest, float64(size)/(1<<20))
	}
	return nil
}

func compressedSize(img v1.Image) (int64, error) {
	layers, err := img.Layers()
	if err != nil {
		return 0, err
	}
	var total int64
	for _, l := range layers {
		n, err := l.Size()
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}
