package main

import (
	"archive/tar"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

var testMetadata = Metadata{Version: "v1.2.3-4-gabcdef0", Revision: strings.Repeat("ab", 20), Created: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC), Licenses: "NOASSERTION"}

// fakeBinary stands in for ocl-guard where only the image's structure is tested.
func fakeBinary(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ocl-guard")
	if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func digestOf(t *testing.T, m Metadata, platforms []Platform) v1.Hash {
	t.Helper()
	idx, err := BuildIndex(m, CABundle, platforms)
	if err != nil {
		t.Fatal(err)
	}
	d, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestBuildIsReproducible(t *testing.T) {
	bin := fakeBinary(t, "#!binary one")
	platforms := []Platform{{Arch: "amd64", Binary: bin}, {Arch: "arm64", Binary: bin}}
	first := digestOf(t, testMetadata, platforms)
	if again := digestOf(t, testMetadata, platforms); again != first {
		t.Fatalf("two builds of the same input differ: %s then %s", first, again)
	}
	later := testMetadata
	later.Created = later.Created.Add(time.Second)
	if d := digestOf(t, later, platforms); d == first {
		t.Errorf("a different commit time gave the same digest %s", d)
	}
	other := []Platform{{Arch: "amd64", Binary: fakeBinary(t, "#!binary two")}, {Arch: "arm64", Binary: bin}}
	if d := digestOf(t, testMetadata, other); d == first {
		t.Errorf("a different binary gave the same digest %s", d)
	}

	// The layout keeps the index byte for byte.
	idx, err := BuildIndex(testMetadata, CABundle, platforms)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "oci")
	if err := writeLayout(dir, idx, testMetadata.Version); err != nil {
		t.Fatal(err)
	}
	back, version, err := readLayout(dir)
	if err != nil {
		t.Fatal(err)
	}
	if version != testMetadata.Version {
		t.Errorf("layout tagged %q, want %q", version, testMetadata.Version)
	}
	if d, _ := back.Digest(); d != first {
		t.Errorf("layout holds %s, built %s", d, first)
	}
}

func TestIndexHasOneImagePerPlatform(t *testing.T) {
	bin := fakeBinary(t, "x")
	idx, err := BuildIndex(testMetadata, CABundle, []Platform{{Arch: "amd64", Binary: bin}, {Arch: "arm64", Binary: bin}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range m.Manifests {
		got = append(got, d.Platform.String())
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Architecture != d.Platform.Architecture || cfg.OS != "linux" {
			t.Errorf("image for %s has config platform %s/%s", d.Platform, cfg.OS, cfg.Architecture)
		}
	}
	if want := []string{"linux/amd64", "linux/arm64"}; !slices.Equal(got, want) {
		t.Errorf("platforms %v, want %v", got, want)
	}
	if m.Annotations[labelPrefix+"revision"] != testMetadata.Revision {
		t.Errorf("index annotations %v lack the revision", m.Annotations)
	}
}

// fileInfo is what the file tree test compares of each tar entry.
type fileInfo struct {
	mode     fs.FileMode
	uid, gid int
}

func TestFileTreeSuitsNonrootAndArbitraryUIDs(t *testing.T) {
	bin := fakeBinary(t, "the binary")
	idx, err := BuildIndex(testMetadata, CABundle, []Platform{{Arch: "amd64", Binary: bin}})
	if err != nil {
		t.Fatal(err)
	}
	files, contents := flatten(t, firstImage(t, idx))
	want := map[string]fileInfo{
		"etc":                               {fs.ModeDir | 0o755, 0, 0},
		"etc/passwd":                        {0o644, 0, 0},
		"etc/group":                         {0o644, 0, 0},
		"etc/nsswitch.conf":                 {0o644, 0, 0},
		"etc/ssl":                           {fs.ModeDir | 0o755, 0, 0},
		"etc/ssl/certs":                     {fs.ModeDir | 0o755, 0, 0},
		"etc/ssl/certs/ca-certificates.crt": {0o644, 0, 0},
		"home":                              {fs.ModeDir | 0o755, 0, 0},
		"home/nonroot":                      {fs.ModeDir | 0o770, 65532, 0}, // group 0 writes: any UID under the restricted SCC
		"tmp":                               {fs.ModeDir | fs.ModeSticky | 0o777, 0, 0},
		"usr":                               {fs.ModeDir | 0o755, 0, 0},
		"usr/local":                         {fs.ModeDir | 0o755, 0, 0},
		"usr/local/bin":                     {fs.ModeDir | 0o755, 0, 0},
		"usr/local/bin/ocl-guard":           {0o755, 0, 0},
	}
	for name, w := range want {
		if got, ok := files[name]; !ok {
			t.Errorf("%s missing", name)
		} else if got != w {
			t.Errorf("%s: mode %v uid %d gid %d, want mode %v uid %d gid %d", name, got.mode, got.uid, got.gid, w.mode, w.uid, w.gid)
		}
	}
	for name := range files {
		if _, ok := want[name]; !ok {
			t.Errorf("unexpected file %s", name)
		}
	}
	if !strings.Contains(contents["etc/passwd"], "nonroot:x:65532:65532:") || !strings.Contains(contents["etc/group"], "nonroot:x:65532:") {
		t.Errorf("passwd/group lack the nonroot user:\n%s%s", contents["etc/passwd"], contents["etc/group"])
	}
	if contents["usr/local/bin/ocl-guard"] != "the binary" {
		t.Errorf("binary content %q", contents["usr/local/bin/ocl-guard"])
	}
	host, err := os.ReadFile(CABundle)
	if err != nil {
		t.Fatal(err)
	}
	if contents["etc/ssl/certs/ca-certificates.crt"] != string(host) {
		t.Error("CA bundle differs from the build host's")
	}
}

func TestConfig(t *testing.T) {
	idx, err := BuildIndex(testMetadata, CABundle, []Platform{{Arch: "amd64", Binary: fakeBinary(t, "x")}})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := firstImage(t, idx).ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	checkConfig(t, cfg, testMetadata)
}

// checkConfig is what an image built from m must say; the push test checks the pushed image with it too.
func checkConfig(t *testing.T, cfg *v1.ConfigFile, m Metadata) {
	t.Helper()
	c := cfg.Config
	if !slices.Equal(c.Entrypoint, []string{"/usr/local/bin/ocl-guard"}) || c.User != "65532:65532" || c.WorkingDir != "/home/nonroot" {
		t.Errorf("entrypoint %q user %q workdir %q", c.Entrypoint, c.User, c.WorkingDir)
	}
	if !slices.Equal(c.Env, []string{"PATH=/usr/local/bin", "HOME=/home/nonroot"}) {
		t.Errorf("env %q", c.Env)
	}
	wantLabels := map[string]string{
		"org.opencontainers.image.source":      "https://github.com/ocl-guard/ocl-guard",
		"org.opencontainers.image.title":       "ocl-guard",
		"org.opencontainers.image.description": description,
		"org.opencontainers.image.licenses":    m.Licenses,
		"org.opencontainers.image.version":     m.Version,
		"org.opencontainers.image.revision":    m.Revision,
		"org.opencontainers.image.created":     m.Created.UTC().Format(time.RFC3339),
	}
	if len(c.Labels) != len(wantLabels) {
		t.Errorf("labels %v, want %v", c.Labels, wantLabels)
	}
	for k, v := range wantLabels {
		if c.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, c.Labels[k], v)
		}
	}
	if !cfg.Created.Time.Equal(m.Created) {
		t.Errorf("created %v, want the commit time %v", cfg.Created.Time, m.Created)
	}
	for _, h := range cfg.History {
		if !h.Created.Time.Equal(m.Created) {
			t.Errorf("history %q created %v, want the commit time", h.CreatedBy, h.Created.Time)
		}
	}
}

// TestDockerfileMatchesBuilder keeps the Dockerfile for podman users equal to what imagebuild builds: the final
// stage's USER, ENTRYPOINT, ENV, WORKDIR and LABELs (expanded with the build args imagebuild prints).
func TestDockerfileMatchesBuilder(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ast, err := parser.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	stages, _, err := instructions.Parse(ast.AST, nil)
	if err != nil {
		t.Fatal(err)
	}
	final := stages[len(stages)-1]
	if final.BaseName != "scratch" {
		t.Errorf("final stage FROM %s, want scratch (the builder starts from nothing)", final.BaseName)
	}
	args := map[string]string{}
	for _, a := range final.Commands {
		if arg, ok := a.(*instructions.ArgCommand); ok {
			for _, kv := range arg.Args {
				args[kv.Key] = ""
			}
		}
	}
	for _, ba := range testMetadata.BuildArgs() {
		k, v, _ := strings.Cut(strings.TrimPrefix(ba, "--build-arg="), "=")
		if _, declared := args[k]; !declared {
			t.Errorf("build arg %s is not declared by an ARG in the final stage", k)
		}
		args[k] = v
	}
	lex := shell.NewLex('\\')
	expand := func(word string) string {
		res, err := lex.ProcessWordWithMatches(word, shell.EnvsFromSlice(envList(args)))
		if err != nil {
			t.Fatalf("expanding %q: %v", word, err)
		}
		return res.Result
	}
	cfg := v1.Config{Labels: map[string]string{}}
	for _, cmd := range final.Commands {
		switch c := cmd.(type) {
		case *instructions.UserCommand:
			cfg.User = c.User
		case *instructions.EntrypointCommand:
			if c.PrependShell {
				t.Errorf("ENTRYPOINT in shell form needs a shell, which the image has not: use the JSON form")
			}
			cfg.Entrypoint = c.CmdLine
		case *instructions.WorkdirCommand:
			cfg.WorkingDir = c.Path
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				cfg.Env = append(cfg.Env, kv.Key+"="+expand(kv.Value))
			}
		case *instructions.LabelCommand:
			for _, kv := range c.Labels {
				cfg.Labels[expand(kv.Key)] = expand(kv.Value)
			}
		}
	}
	checkConfig(t, &v1.ConfigFile{Config: cfg, Created: v1.Time{Time: testMetadata.Created}}, testMetadata)
}

func envList(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	return out
}

func firstImage(t *testing.T, idx v1.ImageIndex) v1.Image {
	t.Helper()
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	img, err := idx.Image(m.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// flatten reads the image's file system: each entry's mode and owner, and the content of regular files.
func flatten(t *testing.T, img v1.Image) (map[string]fileInfo, map[string]string) {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	files, contents := map[string]fileInfo{}, map[string]string{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files, contents
		}
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name] = fileInfo{mode: h.FileInfo().Mode(), uid: h.Uid, gid: h.Gid}
		if h.Typeflag == tar.TypeReg {
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			contents[h.Name] = string(data)
		}
	}
}
