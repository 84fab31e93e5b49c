package diagnose

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ocl-guard/ocl-guard/mco"
)

func TestProgressRoundTrip(t *testing.T) {
	p := Progress{
		UpdatedMachineCount: 7,
		Since:               t0,
		Image:               imageKey(target),
		NodeStateSince: map[string]StateSince{
			"worker-0":    {State: mco.StateRebooting, Since: t0.Add(-3 * time.Minute)},
			"ip-10-0-1-2": {State: mco.StateWorking, Since: t0.Add(-time.Hour)},
		},
	}
	enc := p.Encode()
	got, err := DecodeProgress(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, p) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, p)
	}
	if enc2 := got.Encode(); enc2 != enc {
		t.Errorf("encoding not stable: %s vs %s", enc2, enc)
	}
	if strings.ContainsAny(enc, " \n") {
		t.Errorf("not compact: %s", enc)
	}

	for _, s := range []string{"", "  "} {
		if p, err := DecodeProgress(s); err != nil || !reflect.DeepEqual(p, Progress{}) {
			t.Errorf("decode %q: %+v %v", s, p, err)
		}
	}
	if p, err := DecodeProgress("{not json"); err == nil || !reflect.DeepEqual(p, Progress{}) {
		t.Errorf("garbage: %+v %v", p, err)
	}
	if got := (Progress{}).Encode(); got != `{"u":0}` {
		t.Errorf("zero encodes to %s", got)
	}
}

func TestProgressEncodeBounded(t *testing.T) {
	p := Progress{NodeStateSince: map[string]StateSince{
		"done-node":     {State: mco.StateDone, Since: t0},
		"degraded-node": {State: mco.StateDegraded, Since: t0},
	}}
	for i := 0; i < 1000; i++ {
		p.NodeStateSince[fmt.Sprintf("node-%04d", i)] = StateSince{State: mco.StateRebooting, Since: t0.Add(time.Duration(i) * time.Second)}
	}
	got, err := DecodeProgress(p.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if len(got.NodeStateSince) != MaxTrackedNodes {
		t.Fatalf("%d nodes kept", len(got.NodeStateSince))
	}
	if _, ok := got.NodeStateSince["done-node"]; ok {
		t.Error("a Done node was kept")
	}
	// The longest-waiting nodes are kept: they are the ones that can become NodeRebootStuck.
	if _, ok := got.NodeStateSince["node-0000"]; !ok {
		t.Error("oldest node dropped")
	}
	if _, ok := got.NodeStateSince["node-0999"]; ok {
		t.Error("newest node kept")
	}
	if n := len(p.Encode()); n > 16*1024 {
		t.Errorf("encoding is %d bytes", n)
	}
}

// The stall clock and the node clocks live in the annotation: a checker restart between reconciles (the only
// memory being the encoded Progress) must not reset them.
func TestProgressSurvivesRestart(t *testing.T) {
	s := layeredSnapshot(
		node("w-0", target, target, mco.StateDone, ""),
		node("w-1", target, oldImage, mco.StateRebooting, ""),
		node("w-2", oldImage, oldImage, mco.StateDone, ""),
	)
	s.Pool.Status.MachineCount, s.Pool.Status.UpdatedMachineCount = 3, 1
	annotation := ""
	var d Diagnosis
	for _, minutes := range []int{0, 5, 12, 19, 26, 33} {
		prev, err := DecodeProgress(annotation) // a fresh process each time
		if err != nil {
			t.Fatal(err)
		}
		s.Previous, s.Now = prev, t0.Add(time.Duration(minutes)*time.Minute)
		var p Progress
		d, p = DiagnosePool(s)
		if !p.Since.Equal(t0) || !p.NodeStateSince["w-1"].Since.Equal(t0) {
			t.Fatalf("minute %d: clock reset: %+v", minutes, p)
		}
		annotation = p.Encode()
	}
	// 33 minutes: w-1 Rebooting > 20m and count unchanged > 30m.
	checkDiag(t, d, NodeRebootStuck, []string{"w-1 Rebooting for 33m", "(also: RolloutStalled)"}, nil, nil)
}

func TestProgressImageForms(t *testing.T) {
	// A Progress written with the full image reference (or none) keeps the clock; Encode stores the short key.
	for _, img := range []string{target, imageKey(target), ""} {
		s := layeredSnapshot(node("w-0", target, target, mco.StateDone, ""), node("w-1", target, oldImage, mco.StateDone, ""))
		s.Pool.Status.MachineCount, s.Pool.Status.UpdatedMachineCount = 2, 1
		s.Previous = Progress{UpdatedMachineCount: 1, Since: t0.Add(-time.Hour), Image: img}
		d, p := DiagnosePool(s)
		if d.Reason != RolloutStalled || !p.Since.Equal(t0.Add(-time.Hour)) {
			t.Errorf("image %q: %s %+v", img, d.Reason, p)
		}
	}
	enc := Progress{Image: target}.Encode()
	if strings.Contains(enc, "registry.example.com") || !strings.Contains(enc, imageKey(target)) {
		t.Errorf("encoded %s", enc)
	}
}
