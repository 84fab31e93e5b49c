package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/ocl-guard/ocl-guard/test/benchcorpus"
)

// BenchmarkCheck1000 runs the built binary, as CI does, over 1,000 files each holding a MachineOSConfig, its pool and
// its push Secret (test/benchcorpus), and reports files per second and the process's peak resident memory.
// test/tools/benchcli, also in `make bench`, measures more sizes and prints the median of several runs.
func BenchmarkCheck1000(b *testing.B) {
	const n = 1000
	dir := b.TempDir()
	binary := filepath.Join(dir, "ocl-guard")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	manifests := filepath.Join(dir, "manifests")
	if err := os.Mkdir(manifests, 0o755); err != nil {
		b.Fatal(err)
	}
	if err := benchcorpus.Write(manifests, n); err != nil {
		b.Fatal(err)
	}
	var peakKB int64
	var elapsed time.Duration
	for b.Loop() {
		cmd := exec.Command(binary, "check", "-f", manifests, "-o", "json")
		start := time.Now()
		err := cmd.Run()
		elapsed += time.Since(start)
		var exitErr *exec.ExitError
		if err != nil && !errors.As(err, &exitErr) || cmd.ProcessState.ExitCode() != 0 {
			b.Fatalf("check: %v (exit %d)", err, cmd.ProcessState.ExitCode())
		}
		if rusage, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			peakKB = max(peakKB, rusage.Maxrss) // kilobytes on Linux
		}
	}
	b.ReportMetric(float64(n*b.N)/elapsed.Seconds(), "files/s")
	b.ReportMetric(float64(peakKB)/1024, "peak-RSS-MiB")
}
