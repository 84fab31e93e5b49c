package status

import (
	"strconv"
	"strings"
	"testing"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
)

func TestBar(t *testing.T) {
	for _, tc := range []struct {
		done, total int32
		want        string
	}{
		{0, 4, "[------------------------]"},
		{1, 4, "[######------------------]"},
		{4, 4, "[########################]"},
		{0, 0, "[------------------------]"},
		{5, 4, "[########################]"}, // a count the pool status briefly overstates
	} {
		if got := Bar(tc.done, tc.total); got != tc.want {
			t.Errorf("Bar(%d, %d) = %s, want %s", tc.done, tc.total, got, tc.want)
		}
	}
}

// A CI log gets a line per stage change and nothing when nothing changed, even though the clock moved on.
func TestLineLogPrintsChangesOnly(t *testing.T) {
	p := newWaitPool()
	p.setPhase(mcfgv1.MachineOSBuilding)
	var out strings.Builder
	log := LineLog{W: &out}
	write := func(at time.Time) {
		t.Helper()
		s := p.snapshots()
		s.setNow(at)
		if err := log.Write([]Report{NewReport(s)}, at); err != nil {
			t.Fatal(err)
		}
	}
	write(now)
	first := out.String()
	for _, want := range []string{
		"2026-12-01T12:00:00Z worker config  MachineOSConfig worker: ok\n",
		"2026-12-01T12:00:00Z worker build   MachineOSBuild " + waitBuild + ": Building\n",
		"2026-12-01T12:00:00Z worker rollout 2/2 nodes updated\n",
		"2026-12-01T12:00:00Z worker next    wait: MachineOSBuild " + waitBuild + " is Building\n",
	} {
		if !strings.Contains(first, want) {
			t.Errorf("missing %q in\n%s", want, first)
		}
	}
	write(now.Add(time.Second))
	if again := out.String()[len(first):]; again != "" {
		t.Errorf("printed %q when nothing changed", again)
	}
	p.setPhase(mcfgv1.MachineOSBuildSucceeded)
	p.build.Status.DigestedImagePushSpec = image
	write(now.Add(2 * time.Second))
	changed := out.String()[len(first):]
	if want := "2026-12-01T12:00:02Z worker build   MachineOSBuild " + waitBuild + ": Succeeded\n"; !strings.Contains(changed, want) {
		t.Errorf("missing %q in\n%s", want, changed)
	}
	if strings.Contains(changed, "rollout") || strings.Contains(changed, "config") {
		t.Errorf("printed stages that did not change:\n%s", changed)
	}
}

// On a terminal the frame is redrawn in place: the next frame first moves up over every row the last one took,
// wrapped lines included, and clears them.
func TestScreenRedrawsInPlace(t *testing.T) {
	p := newWaitPool()
	p.setPhase(mcfgv1.MachineOSBuilding)
	p.rolloutAt(1)
	var out strings.Builder
	screen := Screen{W: &out, Width: func() int { return 40 }}
	if err := screen.Draw([]Report{NewReport(p.snapshots())}, now); err != nil {
		t.Fatal(err)
	}
	first := out.String()
	if strings.Contains(first, "\x1b[") {
		t.Errorf("the first frame moves the cursor: %q", first)
	}
	for _, want := range []string{"pool worker: healthy\n", "  build    MachineOSBuild " + waitBuild + ": Building for 1m0s\n",
		"  rollout  [############------------] 1/2 nodes updated\n"} {
		if !strings.Contains(first, want) {
			t.Errorf("missing %q in\n%s", want, first)
		}
	}
	wantRows := 0
	for _, line := range strings.Split(strings.TrimSuffix(first, "\n"), "\n") {
		wantRows += max(1, (len(line)+39)/40)
	}
	if err := screen.Draw([]Report{NewReport(p.snapshots())}, now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if second := out.String()[len(first):]; !strings.HasPrefix(second, "\x1b["+strconv.Itoa(wantRows)+"F\x1b[J") {
		t.Errorf("the second frame starts %q, want to move up %d rows and clear", second[:min(len(second), 12)], wantRows)
	}
}
