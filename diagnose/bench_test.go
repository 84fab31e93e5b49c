package diagnose

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ocl-guard/ocl-guard/mco"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
)

// pool1000 builds a 1,000-node pool in the middle of a troubled rollout: most nodes done, some on the old image,
// some Working/Rebooting (half of them for long), some Degraded with each node-side reason shape.
func pool1000() PoolSnapshot {
	degraded := []string{reasonAuthShape2, reasonNotFoundShape1, reasonNoCauseShape3, reasonX509Shape4, reasonDisk, reasonOther}
	nodes := make([]NodeInfo, 0, 1000)
	prev := Progress{UpdatedMachineCount: 700, Since: t0.Add(-40 * time.Minute), Image: imageKey(target), NodeStateSince: map[string]StateSince{}}
	for i := 0; i < 1000; i++ {
		name := fmt.Sprintf("ip-10-0-%d-%d.ec2.internal", i/250, i%250)
		switch {
		case i < 700:
			nodes = append(nodes, node(name, target, target, mco.StateDone, ""))
		case i < 850:
			nodes = append(nodes, node(name, oldImage, oldImage, mco.StateDone, ""))
		case i < 900:
			st := mco.StateWorking
			if i%2 == 0 {
				st = mco.StateRebooting
			}
			nodes = append(nodes, node(name, target, oldImage, st, ""))
			if i%4 < 2 {
				prev.NodeStateSince[name] = StateSince{State: st, Since: t0.Add(-time.Hour)}
			}
		default:
			nodes = append(nodes, node(name, target, oldImage, mco.StateDegraded, degraded[i%len(degraded)]))
		}
	}
	return PoolSnapshot{
		Pool:        newPool(1000, 700, poolCond(mcfgv1.MachineConfigPoolUpdating, corev1.ConditionTrue, "", "")),
		Config:      newMOSC(),
		LatestBuild: succeededBuild(t0.Add(-2*time.Hour), target),
		Nodes:       nodes,
		Previous:    prev,
		Now:         t0,
	}
}

func BenchmarkDiagnosePool1000Nodes(b *testing.B) {
	s := pool1000()
	d, p := DiagnosePool(s)
	if d.Reason != NodeImagePullAuth || len(p.NodeStateSince) != 50 {
		b.Fatalf("unexpected: %s %d", d.Reason, len(p.NodeStateSince))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		DiagnosePool(s)
	}
}

func BenchmarkProgressEncodeDecode(b *testing.B) {
	_, p := DiagnosePool(pool1000())
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := DecodeProgress(p.Encode()); err != nil {
			b.Fatal(err)
		}
	}
}

// log64K is a 64 KiB image-build log shaped like a real failing one: the MCO's set -x preamble, buildah DEBUG
// noise, the MCO's stages, a long dnf transaction, and a missing package.
func log64K() string {
	var sb strings.Builder
	sb.WriteString(logPreamble)
	sb.WriteString(logBaseOK)
	sb.WriteString("STEP 2/2: RUN dnf install -y tmux htop tmuxx && dnf clean all\n")
	sb.WriteString("Updating Subscription Management repositories.\n")
	i := 0
	for sb.Len() < 64*1024-300 {
		if i%3 == 0 {
			fmt.Fprintf(&sb, "time=\"2026-08-20T09:25:%02dZ\" level=debug msg=\"layer %d: sha256:7e49dc6156b0b532730614d83a65ae5e7ce61e966b0498703d333b4d03505e4f\"\n", i%60, i)
		} else {
			fmt.Fprintf(&sb, " rhel-9-for-x86_64-appstream-rpms   %4d kB/s | 12 MB     00:0%d    package-%d-1.el9.x86_64\n", 900+i%100, i%10, i)
		}
		i++
	}
	sb.WriteString("No match for argument: tmuxx\nError: Unable to find a match: tmuxx\nsubprocess exited with status 1\n")
	sb.WriteString(`Error: building at STEP "RUN dnf install -y tmux htop tmuxx && dnf clean all": exit status 1` + "\n")
	return sb.String()
}

func BenchmarkDiagnoseBuild(b *testing.B) {
	s := failedSnapshot("subprocess exited with status 1\nError: building at STEP \"RUN dnf install -y tmux htop tmuxx && dnf clean all\": exit status 1", layoutInit)
	s.Log = log64K()
	if len(s.Log) < 63*1024 || len(s.Log) > 65*1024 {
		b.Fatalf("log is %d bytes", len(s.Log))
	}
	if !NeedsLog(s) {
		b.Fatal("NeedsLog = false")
	}
	if d := DiagnoseBuild(s); d.Reason != PackageNotFound {
		b.Fatalf("reason %s: %s", d.Reason, d.Evidence)
	}
	b.SetBytes(int64(len(s.Log)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		DiagnoseBuild(s)
	}
}

// Classifying a 64 KiB build log (scanLog alone) stays well under a millisecond.
func BenchmarkClassifyBuildLog64K(b *testing.B) {
	log := log64K()
	if r := scanLog(log); r.cls != clsPackage {
		b.Fatalf("class %d", r.cls)
	}
	b.SetBytes(int64(len(log)))
	b.ReportAllocs()
	for b.Loop() {
		scanLog(log)
	}
}
