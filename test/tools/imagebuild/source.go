package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// gitMetadata reads the version (git describe), the revision and the commit time of the checkout at root.
func gitMetadata(root, licenses string) (Metadata, error) {
	version, err := git(root, "describe", "--tags", "--always", "--dirty")
	if err != nil {
		return Metadata{}, err
	}
	revision, err := git(root, "rev-parse", "HEAD")
	if err != nil {
		return Metadata{}, err
	}
	unix, err := git(root, "log", "-1", "--format=%ct")
	if err != nil {
		return Metadata{}, err
	}
	secs, err := strconv.ParseInt(unix, 10, 64)
	if err != nil {
		return Metadata{}, fmt.Errorf("commit time %q: %w", unix, err)
	}
	return Metadata{Version: version, Revision: revision, Created: time.Unix(secs, 0).UTC(), Licenses: licenses}, nil
}

func git(root string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// repoRoot is the top of the git checkout holding the working directory.
func repoRoot() (string, error) { return git(".", "rev-parse", "--show-toplevel") }

// compile builds a static ocl-guard for linux/arch into dir: no cgo, no local paths, no symbol tables. The
// Dockerfile's build stage uses the same flags.
func compile(root, dir, arch string) (string, error) {
	out := filepath.Join(dir, "ocl-guard-linux-"+arch)
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, "./cmd/ocl-guard")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build for linux/%s: %w", arch, err)
	}
	return out, nil
}
