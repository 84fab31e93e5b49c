// Command benchcli is the part of `make bench` that measures the ocl-guard CLI at pipeline scale: for each case and
// input size it writes the input into a temporary directory, runs the built binary on it as CI does, several times,
// and prints files per second, the process's peak resident memory and its CPU time (user and system) per 1,000 files
// (the median run, and the spread). It is a measurement, never a test: nothing asserts a time. The machine's load
// average is printed with the numbers, since other work on the machine slows every run; the CPU time depends less on
// it than the wall time does.
//
// Another command is measured by adding one entry to cases.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ocl-guard/ocl-guard/test/benchcorpus"
)

// benchCase is one command to measure.
type benchCase struct {
	name string
	// write lays out an input of n files (the unit of files/s) in dir, which exists and is empty.
	write func(dir string, n int) error
	// args are the binary's arguments that read the input in dir.
	args func(dir string) []string
	// exitCode is what the binary exits with when it did the whole work (1 would mean a config was denied).
	exitCode int
}

var cases = []benchCase{
	{
		name:  "check -f",
		write: benchcorpus.Write,
		args:  func(dir string) []string { return []string{"check", "-f", dir, "-o", "json"} },
	},
	// `status --from DIR`, once a must-gather dump can be written (package mustgather), is one more entry here:
	// {name: "status --from", write: <write a dump of n files>, args: func(dir string) []string { return []string{"status", "--from", dir} }},
}

func main() {
	files := flag.String("files", "1000,5000", "comma-separated input sizes, in files")
	runs := flag.Int("runs", 5, "runs per case and size; the median is printed")
	binary := flag.String("binary", "", "the ocl-guard binary to measure; built from ./cmd/ocl-guard when empty")
	only := flag.String("cases", "", "comma-separated case names to run (all when empty): "+caseNames())
	flag.Parse()
	if err := run(*files, *runs, *binary, *only); err != nil {
		fmt.Fprintf(os.Stderr, "benchcli: %v\n", err)
		os.Exit(1)
	}
}

func caseNames() string {
	var names []string
	for _, c := range cases {
		names = append(names, strconv.Quote(c.name))
	}
	return strings.Join(names, ", ")
}

func run(sizeList string, runs int, binary, only string) error {
	sizes, err := parseSizes(sizeList)
	if err != nil {
		return err
	}
	if runs < 1 {
		return fmt.Errorf("-runs %d: want at least 1", runs)
	}
	selected, err := selectCases(only)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "benchcli-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if binary == "" {
		binary = filepath.Join(tmp, "ocl-guard")
		if out, err := exec.Command("go", "build", "-o", binary, "./cmd/ocl-guard").CombinedOutput(); err != nil {
			return fmt.Errorf("go build ./cmd/ocl-guard (run from the repository's root): %v\n%s", err, out)
		}
	}
	fmt.Printf("ocl-guard CLI over many files: %d runs each, %d CPUs, load average %s at the start\n\n", runs, runtime.NumCPU(), loadAverage())
	fmt.Printf("%-16s %7s %26s %27s %22s\n", "case", "files", "files/s median (min-max)", "peak RSS MiB median (max)", "CPU s/1,000 files")
	for _, c := range selected {
		for _, n := range sizes {
			dir := filepath.Join(tmp, fmt.Sprintf("%s-%d", strings.NewReplacer(" ", "", "-", "").Replace(c.name), n))
			if err := os.Mkdir(dir, 0o755); err != nil {
				return err
			}
			if err := c.write(dir, n); err != nil {
				return fmt.Errorf("%s: writing %d files: %w", c.name, n, err)
			}
			var rates, peaks, cpus []float64
			for range runs {
				m, err := measure(binary, c.args(dir), c.exitCode)
				if err != nil {
					return fmt.Errorf("%s over %d files: %w", c.name, n, err)
				}
				rates = append(rates, float64(n)/m.elapsed.Seconds())
				peaks = append(peaks, m.peakMiB)
				cpus = append(cpus, m.cpu.Seconds()*1000/float64(n))
			}
			slices.Sort(rates)
			slices.Sort(peaks)
			slices.Sort(cpus)
			fmt.Printf("%-16s %7d %26s %27s %22s\n", c.name, n,
				fmt.Sprintf("%.0f (%.0f-%.0f)", median(rates), rates[0], rates[len(rates)-1]),
				fmt.Sprintf("%.0f (%.0f)", median(peaks), peaks[len(peaks)-1]),
				fmt.Sprintf("%.2f", median(cpus)))
			if err := os.RemoveAll(dir); err != nil {
				return err
			}
		}
	}
	fmt.Printf("\nload average %s at the end\n", loadAverage())
	return nil
}

// measurement is one run of the binary.
type measurement struct {
	elapsed time.Duration // wall time
	cpu     time.Duration // user and system
	peakMiB float64       // peak resident memory
}

// measure runs the binary once.
func measure(binary string, args []string, wantExit int) (measurement, error) {
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return measurement{}, err
	}
	defer devNull.Close()
	cmd := exec.Command(binary, args...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = devNull, &stderr
	start := time.Now()
	err = cmd.Run()
	elapsed := time.Since(start)
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return measurement{}, err
	}
	if code := cmd.ProcessState.ExitCode(); code != wantExit {
		return measurement{}, fmt.Errorf("%s exited %d, want %d: %s", strings.Join(args, " "), code, wantExit, stderr.String())
	}
	rusage, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return measurement{}, errors.New("no resource usage for the process on this system")
	}
	peak := float64(rusage.Maxrss) / 1024 // kilobytes on Linux
	if runtime.GOOS == "darwin" {
		peak /= 1024 // bytes on macOS
	}
	return measurement{elapsed: elapsed, cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), peakMiB: peak}, nil
}

func parseSizes(list string) ([]int, error) {
	var sizes []int
	for _, field := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-files %q: want positive numbers separated by commas", list)
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}

func selectCases(only string) ([]benchCase, error) {
	if only == "" {
		return cases, nil
	}
	var selected []benchCase
	for _, name := range strings.Split(only, ",") {
		i := slices.IndexFunc(cases, func(c benchCase) bool { return c.name == strings.TrimSpace(name) })
		if i < 0 {
			return nil, fmt.Errorf("-cases: no case %q; the cases are %s", name, caseNames())
		}
		selected = append(selected, cases[i])
	}
	return selected, nil
}

func median(sorted []float64) float64 {
	if len(sorted)%2 == 1 {
		return sorted[len(sorted)/2]
	}
	return (sorted[len(sorted)/2-1] + sorted[len(sorted)/2]) / 2
}

// loadAverage is the 1-minute load average, or "unknown" where /proc/loadavg does not exist.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Fields(string(data))[0]
}
