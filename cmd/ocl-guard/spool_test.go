package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/ocl-guard/ocl-guard/crdschema"
	"github.com/ocl-guard/ocl-guard/validators"
)

// The report is the same whether the spool keeps the renderings in memory, moves them to a temporary file, or
// cannot make one; and the file is gone once the check ends.
func TestCheckReportThroughTheSpool(t *testing.T) {
	settings, err := loadSettings("")
	if err != nil {
		t.Fatal(err)
	}
	opts := checkFlags{configSchema: crdschema.MachineOSConfig, env: validators.Env{Actions: settings.ActionFor, Preflight: settings.Preflight.Rules()}}
	if len(reportFormats) != len(outputFormats) {
		t.Fatalf("-o lists %v, and %d formats render", outputFormats, len(reportFormats))
	}
	for _, format := range outputFormats {
		t.Run(format, func(t *testing.T) {
			if reportFormats[format] == nil {
				t.Fatalf("-o %s renders nothing: add it to reportFormats", format)
			}
			report := func(limit int, tmp string) (string, *checkOutput) {
				t.Setenv("TMPDIR", tmp)
				out := &checkOutput{format: reportFormats[format], spool: spool{limit: limit}}
				results, err := opts.checkFiles(context.Background(), []string{"parity/corpus"}, false, 0, out)
				if err != nil {
					t.Fatal(err)
				}
				var b bytes.Buffer
				if err := out.write(&b, results); err != nil {
					t.Fatal(err)
				}
				return b.String(), out
			}
			inMemory, out := report(0, t.TempDir())
			if out.spool.file != nil {
				t.Fatal("a small report went to a temporary file")
			}
			tmp := t.TempDir()
			spilled, out := report(1, tmp)
			if out.spool.file == nil {
				t.Fatal("the report stayed in memory past the spool's limit")
			}
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Errorf("the temporary file is still linked while the check runs: %v", left)
			}
			if err := out.close(); err != nil {
				t.Fatal(err)
			}
			noTemp, out := report(1, filepath.Join(tmp, "missing"))
			if out.spool.file != nil || !out.spool.noFile {
				t.Fatal("the spool did not fall back to memory without a temporary directory")
			}
			if spilled != inMemory || noTemp != inMemory {
				t.Errorf("the report depends on where the spool keeps it:\n%s\n%s", lineDiff(inMemory, spilled), lineDiff(inMemory, noTemp))
			}
		})
	}
}
