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

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/mustgather/mustgathertest"
	"github.com/ocl-guard/ocl-guard/status"
	"github.com/ocl-guard/ocl-guard/test/benchcorpus"
)

// benchCase is one command to measure.
type benchCase struct {
	name string
	// unit is what an input's size counts ("files", "nodes"): the unit of the rate, and the flag that sets the sizes.
	unit string
	// write lays out an input of n units in dir, which exists and is empty.
	write func(dir string, n int) error
	// args are the binary's arguments that read the input in dir.
	args func(dir string) []string
	// exitCode is what the binary exits with when it did the whole work (1 would mean a config was denied).
	exitCode int
}

var cases = []benchCase{
	{
		name:  "check -f",
		unit:  "files",
		write: benchcorpus.Write,
		args:  func(dir string) []string { return []string{"check", "-f", dir, "-o", "json"} },
	},
	{
		// A must-gather of pools of 100 nodes with 20 failed builds each, their logs read (mustgathertest.WriteScale);
		// status exits 1 because the builds failed.
		name: "status --from",
		unit: "nodes",
		write: func(dir string, nodes int) error {
			scheme, err := app.Scheme()
			if err != nil {
				return err
			}
			return mustgathertest.WriteScale(dir, nodes, scheme, status.InstallNamespace, time.Now().UTC())
		},
		args:     func(dir string) []string { return []string{"status", "--from", dir, "-o", "json"} },
		exitCode: 1,
	},
}

func main() {
	files := flag.String("files", "1000,5000,20000", "comma-separated input sizes of the cases counted in files")
	nodes := flag.String("nodes", "1000", "comma-separated input sizes of the cases counted in nodes")
	runs := flag.Int("runs", 5, "runs per case and size; the median is printed")
	binary := flag.String("binary", "", "the ocl-guard binary to measure; built from ./cmd/ocl-guard when empty")
	only := flag.String("cases", "", "comma-separated case names to run (all when empty): "+caseNames())
	writeCase := flag.String("write-input", "", "internal: write one input of the named case (-size, -dir) and exit")
	writeSize := flag.Int("size", 0, "internal: with -write-input, the input's size")
	writeDir := flag.String("dir", "", "internal: with -write-input, where to write it")
	flag.Parse()
	if *writeCase != "" {
		if err := writeInput(*writeCase, *writeSize, *writeDir); err != nil {
			fmt.Fprintf(os.Stderr, "benchcli: %v\n", err)
			os.Exit(1)
		}
		return
	}
	if err := run(map[string]string{"files": *files, "nodes": *nodes}, *runs, *binary, *only); err != nil {
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

func run(sizeLists map[string]string, runs int, binary, only string) error {
	sizesOf := map[string][]int{}
	for unit, list := range sizeLists {
		sizes, err := parseSizes(unit, list)
		if err != nil {
			return err
		}
		sizesOf[unit] = sizes
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
	fmt.Printf("ocl-guard CLI over large inputs: %d runs each, %d CPUs, load average %s at the start\n\n", runs, runtime.NumCPU(), loadAverage())
	fmt.Printf("%-16s %11s %8s %26s %27s %22s\n", "case", "input", "wall s", "per s median (min-max)", "peak RSS MiB median (max)", "CPU s/1,000 units")
	for _, c := range selected {
		for _, n := range sizesOf[c.unit] {
			dir := filepath.Join(tmp, fmt.Sprintf("%s-%d", strings.NewReplacer(" ", "", "-", "").Replace(c.name), n))
			if err := os.Mkdir(dir, 0o755); err != nil {
				return err
			}
			if err := writeInChild(c, n, dir); err != nil {
				return fmt.Errorf("%s: writing %d %s: %w", c.name, n, c.unit, err)
			}
			var rates, peaks, cpus, walls []float64
			for range runs {
				m, err := measure(binary, c.args(dir), c.exitCode)
				if err != nil {
					return fmt.Errorf("%s over %d %s: %w", c.name, n, c.unit, err)
				}
				rates = append(rates, float64(n)/m.elapsed.Seconds())
				walls = append(walls, m.elapsed.Seconds())
				peaks = append(peaks, m.peakMiB)
				cpus = append(cpus, m.cpu.Seconds()*1000/float64(n))
			}
			slices.Sort(rates)
			slices.Sort(walls)
			slices.Sort(peaks)
			slices.Sort(cpus)
			fmt.Printf("%-16s %11s %8.2f %26s %27s %22s\n", c.name, fmt.Sprintf("%d %s", n, c.unit), median(walls),
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

// writeInChild writes a case's input in a process of its own. Linux counts a child's peak RSS from the memory of
// the process that started it (exec_mmap keeps the old mm's high-water mark in the rusage maxrss), so the inputs,
// built in memory, must not pass through this process: writing a must-gather of 1,000 nodes here made status
// --from read 214 MiB instead of its 70.
func writeInChild(c benchCase, n int, dir string) error {
	cmd := exec.Command(os.Args[0], "-write-input", c.name, "-size", strconv.Itoa(n), "-dir", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
}

func writeInput(name string, size int, dir string) error {
	i := slices.IndexFunc(cases, func(c benchCase) bool { return c.name == name })
	if i < 0 || size < 1 || dir == "" {
		return fmt.Errorf("-write-input %q -size %d -dir %q: want a case, a positive size and a directory", name, size, dir)
	}
	return cases[i].write(dir, size)
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

func parseSizes(unit, list string) ([]int, error) {
	var sizes []int
	for _, field := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-%s %q: want positive numbers separated by commas", unit, list)
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
