package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/mustgather/mustgathertest"
	"github.com/ocl-guard/ocl-guard/status"
)

var benchDump = flag.String("bench-dump", "", "write BenchmarkStatusFrom's must-gather into this directory and keep it (to time the binary on it)")

func writeBenchDump(b *testing.B) string {
	b.Helper()
	scheme, err := app.Scheme()
	if err != nil {
		b.Fatal(err)
	}
	dir := *benchDump
	if dir == "" {
		dir = b.TempDir()
	}
	// 1,000 nodes: 10 pools, 200 builds with their logs.
	if err := mustgathertest.WriteScale(dir, 1000, scheme, status.InstallNamespace, gatheredAt); err != nil {
		b.Fatal(err)
	}
	return dir
}

// BenchmarkStatusFrom is `ocl-guard status --from DIR -o json` on a must-gather of 1,000 nodes and 200 builds with
// their logs: load, gather, judge, render. peak-heap-MiB is the largest live heap seen while it ran (sampled).
func BenchmarkStatusFrom(b *testing.B) {
	dir := writeBenchDump(b)
	var peak atomic.Uint64
	stop := make(chan struct{})
	defer close(stop)
	go sampleHeap(&peak, stop)
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		code, err := runStatus([]string{"--from", dir, "-o", "json"}, io.Discard, io.Discard)
		if err != nil || code != 1 {
			b.Fatalf("exit %d, %v", code, err)
		}
	}
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
	if *benchDump != "" {
		fmt.Fprintf(os.Stderr, "must-gather kept in %s\n", dir)
	}
}

// sampleHeap records the largest heap (objects in use and not yet swept) every millisecond until stop.
func sampleHeap(peak *atomic.Uint64, stop <-chan struct{}) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
		}
	}
}
