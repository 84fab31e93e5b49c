package app

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

// openPTY returns the terminal side of a new pseudo-terminal, as a shell's stderr is.
func openPTY(t *testing.T) *os.File {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("opening /dev/ptmx: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlocking the pty: %v", err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	tty, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("opening the pty: %v", err)
	}
	t.Cleanup(func() { tty.Close() })
	return tty
}

func TestLogEncodingFollowsTheTerminal(t *testing.T) {
	pipeR, pipeW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pipeR.Close()
	defer pipeW.Close()
	for _, tc := range []struct {
		name  string
		dest  *os.File
		flags []string
		json  bool
	}{
		{name: "terminal", dest: openPTY(t), json: false},
		{name: "pipe", dest: pipeW, json: true},
		{name: "terminal, --zap-encoder=json", dest: openPTY(t), flags: []string{"--zap-encoder=json"}, json: true},
		{name: "pipe, --zap-encoder=console", dest: pipeW, flags: []string{"--zap-encoder=console"}, json: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var o zap.Options
			fs := flag.NewFlagSet("x", flag.ContinueOnError)
			o.BindFlags(fs)
			if err := fs.Parse(tc.flags); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			o.DestWriter = &out // where the lines go; tc.dest is what is tested for being a terminal
			ForTerminal(&o, tc.dest)
			zap.New(zap.UseFlagOptions(&o)).Info("webhook serving", "port", 9443)
			line := strings.TrimSpace(out.String())
			var fields map[string]any
			isJSON := json.Unmarshal([]byte(line), &fields) == nil
			if isJSON != tc.json {
				t.Fatalf("JSON %v, want %v: %q", isJSON, tc.json, line)
			}
			if !strings.Contains(line, "webhook serving") || !strings.Contains(line, "9443") {
				t.Errorf("line lacks the message or its field: %q", line)
			}
		})
	}
}
