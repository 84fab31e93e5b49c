package diagnose

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
	"time"

	"github.com/ocl-guard/ocl-guard/mco"
)

// StateSince is when a node entered its current machine-config-daemon state.
type StateSince struct {
	State string
	Since time.Time
}

// Progress is what the rollout rules remember across reconciles (in a pool annotation, so checker restarts do not
// reset the clocks). DiagnosePool returns an unchanged Progress while nothing changes, so the checker can compare
// encodings and write only on change.
type Progress struct {
	// UpdatedMachineCount is the pool's updatedMachineCount when the stall clock (Since) started.
	UpdatedMachineCount int32
	// Since is when UpdatedMachineCount was first seen at its value during an active rollout; zero when no rollout
	// is running (so the clock does not run while a build runs or the pool is paused).
	Since time.Time
	// Image is a short key of the image the stall clock runs for (the first 12 hex digits of its digest); a new
	// target image restarts the clock. A full image reference is accepted too (Encode shortens it), and an empty
	// Image matches any image.
	Image string
	// NodeStateSince holds, for nodes currently Rebooting or Working on a new image, when they entered that state.
	NodeStateSince map[string]StateSince
}

// MaxTrackedNodes bounds NodeStateSince in the encoding (the annotation must stay small); the nodes that have been
// in their state longest are kept.
const MaxTrackedNodes = 256

type progressWire struct {
	U int32                `json:"u"`
	T int64                `json:"t,omitempty"`
	I string               `json:"i,omitempty"`
	N map[string]stateWire `json:"n,omitempty"`
}

type stateWire struct {
	S string `json:"s"`
	T int64  `json:"t"`
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func timeOrZero(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}

func trackedState(state string) bool { return state == mco.StateRebooting || state == mco.StateWorking }

// Encode renders p as compact JSON with second precision, keeping only Rebooting/Working nodes, at most
// MaxTrackedNodes of them.
func (p Progress) Encode() string {
	w := progressWire{U: p.UpdatedMachineCount, T: unixOrZero(p.Since), I: p.Image}
	if strings.ContainsAny(w.I, "/@:") {
		w.I = imageKey(w.I)
	}
	names := make([]string, 0, len(p.NodeStateSince))
	for name, st := range p.NodeStateSince {
		if trackedState(st.State) && name != "" {
			names = append(names, name)
		}
	}
	if len(names) > MaxTrackedNodes {
		sort.Slice(names, func(i, j int) bool {
			a, b := p.NodeStateSince[names[i]].Since, p.NodeStateSince[names[j]].Since
			if !a.Equal(b) {
				return a.Before(b)
			}
			return names[i] < names[j]
		})
		names = names[:MaxTrackedNodes]
	}
	if len(names) > 0 {
		w.N = make(map[string]stateWire, len(names))
		for _, name := range names {
			st := p.NodeStateSince[name]
			w.N[name] = stateWire{S: st.State, T: unixOrZero(st.Since)}
		}
	}
	b, err := json.Marshal(w)
	if err != nil { // cannot happen for these types
		return "{}"
	}
	return string(b)
}

// DecodeProgress parses Encode's output. An empty string is the zero Progress. On error the zero Progress is
// returned with the error: the checker should start fresh.
func DecodeProgress(s string) (Progress, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Progress{}, nil
	}
	var w progressWire
	if err := json.Unmarshal([]byte(s), &w); err != nil {
		return Progress{}, fmt.Errorf("decoding rollout progress: %w", err)
	}
	p := Progress{UpdatedMachineCount: w.U, Since: timeOrZero(w.T), Image: w.I}
	for name, st := range w.N {
		if !trackedState(st.S) {
			continue
		}
		if p.NodeStateSince == nil {
			p.NodeStateSince = make(map[string]StateSince, len(w.N))
		}
		p.NodeStateSince[name] = StateSince{State: st.S, Since: timeOrZero(st.T)}
	}
	return p, nil
}

// sameImage reports whether a remembered Progress.Image designates target.
func sameImage(remembered, target string) bool {
	return remembered == "" || remembered == target || remembered == imageKey(target)
}

// imageKey is a short stable key of an image reference: the first 12 hex digits of its digest, else a hash.
func imageKey(ref string) string {
	if ref == "" {
		return ""
	}
	if i := strings.Index(ref, "@sha256:"); i >= 0 && len(ref) >= i+8+12 {
		return ref[i+8 : i+8+12]
	}
	h := fnv.New64a()
	h.Write([]byte(ref))
	return fmt.Sprintf("%016x", h.Sum64())
}
