package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ocl-guard/ocl-guard/crdschema"
	"github.com/ocl-guard/ocl-guard/test/benchcorpus"
	"github.com/ocl-guard/ocl-guard/validators"
)

// parity/golden holds what `ocl-guard check` printed before it read files in parallel and dropped configs once
// checked (recorded with the binary of commit fe43717). The corpus has what can make the two differ: configs whose
// pool and Secrets come in files read later, a Secret defined twice (the last wins), an entitlement Secret in a
// List read after a config that installs packages, schema refusals, a JSON stream, a hidden directory, standard
// input, and files that stop the check.
func TestCheckParityWithGolden(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		stdin    string
		wantCode int
		golden   string // stdout, or stderr when the check cannot run
	}{
		{"text", []string{"-f", "parity/corpus"}, "", 1, "corpus.text"},
		{"json", []string{"-f", "parity/corpus", "-o", "json"}, "", 1, "corpus.json"},
		{"junit", []string{"-f", "parity/corpus", "-o", "junit"}, "", 1, "corpus.junit"},
		{"junit, failing on warnings", []string{"-f", "parity/corpus", "-o", "junit", "--fail-on", "warnings"}, "", 1, "corpus-fail-on-warnings.junit"},
		{"sarif", []string{"-f", "parity/corpus", "-o", "sarif"}, "", 1, "corpus.sarif"},
		{"standard input, text", []string{"-f", "-", "-f", "parity/corpus/d-stream.json"}, "parity/stdin.yaml", 1, "stdin.text"},
		{"standard input, sarif", []string{"-f", "-", "-f", "parity/corpus/d-stream.json", "-o", "sarif"}, "parity/stdin.yaml", 1, "stdin.sarif"},
		{"a file that is not YAML", []string{"-f", "parity/broken"}, "", 2, "broken.err"},
		{"a Secret strict decoding refuses", []string{"-f", "parity/strict"}, "", 2, "strict.err"},
		{"a path that does not exist, after good files", []string{"-f", "parity/corpus", "-f", "parity/nonexistent"}, "", 2, "missing.err"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.stdin != "" {
				content, err := os.ReadFile(tc.stdin)
				if err != nil {
					t.Fatal(err)
				}
				withStdin(t, string(content))
			}
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"ocl-guard", "check"}, tc.args...), &stdout, &stderr)
			if code != tc.wantCode {
				t.Errorf("exit code %d, want %d\n%s%s", code, tc.wantCode, stdout.String(), stderr.String())
			}
			got := stdout.Bytes()
			if tc.wantCode == 2 {
				got = stderr.Bytes()
			}
			want, err := os.ReadFile(filepath.Join("parity", "golden", tc.golden))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from parity/golden/%s:\n%s", tc.golden, lineDiff(string(want), string(got)))
			}
		})
	}
}

// The results do not depend on how many files are read and configs checked at once, nor on whether a config's
// Secrets come before or after it: every config of the benchmark corpus is read before the one Secret they all
// use when that Secret's file sorts last.
func TestCheckParityAcrossWorkers(t *testing.T) {
	generated := t.TempDir()
	if err := benchcorpus.Write(generated, 60); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(generated, benchcorpus.BasePullSecretFile), filepath.Join(generated, "zz-"+benchcorpus.BasePullSecretFile)); err != nil {
		t.Fatal(err)
	}
	settings, err := loadSettings("")
	if err != nil {
		t.Fatal(err)
	}
	opts := checkFlags{configSchema: crdschema.MachineOSConfig, env: validators.Env{Actions: settings.ActionFor, Preflight: settings.Preflight.Rules()}}
	for _, files := range [][]string{{"parity/corpus"}, {generated}} {
		var first string
		for _, workers := range []int{1, 2, 8} {
			output := &checkOutput{format: jsonReport{}}
			results, err := opts.checkFiles(context.Background(), files, false, workers, output)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := output.write(&out, results); err != nil {
				t.Fatal(err)
			}
			output.close()
			if strings.Contains(out.String(), "base-pull (base image pull secret): not in the given manifests") {
				t.Errorf("%v, %d workers: a config was judged without the Secret of a file read after it", files, workers)
			}
			if workers == 1 {
				first = out.String()
				continue
			}
			if out.String() != first {
				t.Errorf("%v: %d workers and 1 disagree:\n%s", files, workers, lineDiff(first, out.String()))
			}
		}
	}
}

// lineDiff shows the first lines where got departs from want.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, wl, gl)
		}
	}
	return "(same lines)"
}
