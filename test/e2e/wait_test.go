package e2e

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/creack/pty"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/ocl-guard/ocl-guard/diagnose"
	"github.com/ocl-guard/ocl-guard/status"
	"github.com/ocl-guard/ocl-guard/test/testbed"
)

// `ocl-guard wait`, the built binary, while the spec plays the MCO through a rebuild: no MCO runs in envtest, so the
// spec writes the MachineOSBuild's status, the config's annotation and status, the pool's status and the nodes'
// annotations as the MCO and its daemons would (mco/ cites where).
var _ = Describe("ocl-guard wait", func() {
	var (
		name     string
		pool     *mcfgv1.MachineConfigPool
		mosc     *mcfgv1.MachineOSConfig
		oldImage = "quay.io/acme/os" + otherDigest
		newImage = "quay.io/acme/os" + builtDigest
	)
	// Before each spec, the pool runs oldImage on its 2 nodes; then the user applies a change to the config and the
	// wait starts, before the MCO has seen the change.
	BeforeEach(func() {
		name = uniqueName("wait")
		pool = newLayeredPool(name, oldImage, 2)
		old := newBuild(name, succeededStatus(time.Hour, oldImage))
		mosc = &mcfgv1.MachineOSConfig{ObjectMeta: metav1.ObjectMeta{Name: name}}
		observe(mosc, old.Name)
		for i := range 2 {
			annotateNode(nodeName(name, i), map[string]string{desiredImage: oldImage, currentImage: oldImage, nodeState: "Done"})
		}
		setPoolStatus(pool, 2, 2, poolCondition(mcfgv1.MachineConfigPoolUpdated, corev1.ConditionTrue, "", ""))
		editConfig(mosc, func(m *mcfgv1.MachineOSConfig) {
			m.Spec.Containerfile[0].Content = "FROM configs AS final\nRUN rpm-ostree install tree htop && ostree container commit\n"
		})
	})

	// The MCO starts the new build: it creates the MachineOSBuild, then names it on the config and observes the
	// config's generation (openshift/machine-config-operator pkg/controller/build/reconciler.go).
	startBuild := func() *mcfgv1.MachineOSBuild {
		GinkgoHelper()
		build := newBuildNamed(name, name+"-00112233445566778899aabbccddeeff", pendingStatus())
		observe(mosc, build.Name)
		return build
	}
	// The build succeeds and the MCO points the config at its image (reconciler.go updateMachineOSConfigStatus).
	buildSucceeds := func(build *mcfgv1.MachineOSBuild) {
		GinkgoHelper()
		setBuildStatus(build, succeededStatus(0, newImage))
		Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
			if err := kube.Get(ctx, client.ObjectKeyFromObject(mosc), mosc); err != nil {
				return err
			}
			mosc.Status.CurrentImagePullSpec = mcfgv1.ImageDigestFormat(newImage)
			mosc.Status.MachineOSBuild = &mcfgv1.ObjectReference{Group: mcfgv1.GroupName, Resource: "machineosbuilds", Name: build.Name}
			return kube.Status().Update(ctx, mosc)
		})).To(Succeed())
	}
	// The node controller moves one node at a time; its daemon reports the new image, and the pool counts it.
	updateNode := func(i int, updated int32) {
		GinkgoHelper()
		annotateNode(nodeName(name, i), map[string]string{desiredImage: newImage, currentImage: newImage, nodeState: "Done"})
		condition := poolCondition(mcfgv1.MachineConfigPoolUpdating, corev1.ConditionTrue, "", "")
		if updated == 2 {
			condition = poolCondition(mcfgv1.MachineConfigPoolUpdated, corev1.ConditionTrue, "", "")
		}
		setPoolStatus(pool, 2, updated, condition)
	}

	It("follows a build and a rollout through their states and exits 0 once every node runs the new image", func() {
		wait := startWait(name, "--timeout", "5m")
		wait.sees("waiting: the MCO has not acted on generation 2 of MachineOSConfig " + name + " yet (observed 1)")

		build := startBuild()
		wait.sees("waiting: MachineOSBuild " + build.Name + " is Pending")
		setBuildStatus(build, buildingStatus(time.Second))
		wait.sees("waiting: MachineOSBuild " + build.Name + " is Building")
		buildSucceeds(build)
		wait.sees("waiting: 0/2 nodes updated: node " + nodeName(name, 0) + " does not run " + newImage)
		updateNode(0, 1)
		wait.sees("waiting: 1/2 nodes updated: node " + nodeName(name, 1) + " does not run " + newImage)
		updateNode(1, 2)

		out, code := wait.exit()
		Expect(code).To(Equal(status.ExitDone), out)
		Expect(out).To(HaveSuffix("done: pool " + name + ": 2/2 nodes run " + newImage + "\n"))
		Expect(out).To(ContainSubstring(" " + name + " build   MachineOSBuild " + build.Name + ": Building\n"))
	})

	It("--for build exits 0 as soon as the build succeeded, before any node has the image", func() {
		wait := startWait(name, "--for", "build")
		build := startBuild()
		wait.sees("waiting: MachineOSBuild " + build.Name + " is Pending")
		setBuildStatus(build, succeededStatus(0, newImage))
		out, code := wait.exit()
		Expect(code).To(Equal(status.ExitDone), out)
		Expect(out).To(HaveSuffix("done: MachineOSBuild " + build.Name + " succeeded: " + newImage + "\n"))
	})

	It("exits 1 with the build's diagnosis as soon as the build fails", func() {
		wait := startWait(name, "--for", "build")
		build := startBuild()
		setBuildStatus(build, buildingStatus(5*time.Minute)) // before failedStatus's end
		wait.sees("waiting: MachineOSBuild " + build.Name + " is Building")
		newBuildPod(build, failedImageBuild(`Error: pushing image "quay.io/acme/os:x" to "docker://quay.io/acme/os:x": writing blob: initiating layer upload to /v2/acme/os/blobs/uploads/ in quay.io: denied: requested access to the resource is denied`))
		setBuildStatus(build, failedStatus())
		out, code := wait.exit()
		Expect(code).To(Equal(status.ExitFailed), out)
		Expect(out).To(SatisfyAll(
			ContainSubstring("2 build    MachineOSBuild "+build.Name+": Failed"),
			ContainSubstring(string(diagnose.PushDenied)+" (Error): MachineOSBuild "+build.Name+": quay.io accepted the push credentials but denied writing"),
			ContainSubstring("failed: MachineOSBuild "+build.Name+" is Failed: MachineOSBuild "+build.Name+": quay.io accepted")))
		Expect(out).NotTo(ContainSubstring(fakePassword))
	})

	It("exits 1 with the rollout's diagnosis as soon as a node degrades", func() {
		wait := startWait(name)
		build := startBuild()
		buildSucceeds(build)
		updateNode(0, 1)
		wait.sees("waiting: 1/2 nodes updated")
		annotateNode(nodeName(name, 1), map[string]string{desiredImage: newImage, currentImage: oldImage, nodeState: "Degraded",
			nodeReason: "failed to update OS to " + newImage + ": error running rpm-ostree rebase: reading manifest sha256:0123 in quay.io/acme/os: unauthorized: authentication required"})
		out, code := wait.exit()
		Expect(code).To(Equal(status.ExitFailed), out)
		Expect(out).To(SatisfyAll(
			ContainSubstring(string(diagnose.NodeImagePullAuth)+" on 1 node: "+nodeName(name, 1)),
			ContainSubstring("failed: the rollout of "+newImage+" to pool "+name+" failed: ")))
	})

	It("exits 2 on timeout, saying what it still waited for", func() {
		wait := startWait(name, "--timeout", "15s")
		wait.sees("waiting: the MCO has not acted on generation 2 of MachineOSConfig " + name + " yet (observed 1)")
		out, code := wait.exit()
		Expect(code).To(Equal(status.ExitTimeout), out)
		Expect(out).To(HaveSuffix("timed out after 15s: still the MCO has not acted on generation 2 of MachineOSConfig " + name + " yet (observed 1)\n"))
	})

	It("needs no more than config/wait/rbac.yaml, as the ServiceAccount of a PostSync hook", func() {
		ensureNamespace("ocl-guard")
		applyManifests(filepath.Join(testbed.RepoRoot(), "config", "wait", "rbac.yaml"))
		user, err := bed.Env.ControlPlane.AddUser(envtest.User{Name: "system:serviceaccount:ocl-guard:ocl-guard-wait"}, nil)
		Expect(err).NotTo(HaveOccurred())
		kubeconfig, err := user.KubeConfig()
		Expect(err).NotTo(HaveOccurred())
		kubeconfigPath := filepath.Join(GinkgoT().TempDir(), "kubeconfig")
		Expect(os.WriteFile(kubeconfigPath, kubeconfig, 0o600)).To(Succeed())

		wait := startWaitAs(kubeconfigPath, name, "--for", "build")
		build := startBuild()
		wait.sees("waiting: MachineOSBuild " + build.Name + " is Pending")
		setBuildStatus(build, succeededStatus(0, newImage))
		out, code := wait.exit()
		Expect(code).To(Equal(status.ExitDone), out)
		Expect(out).NotTo(ContainSubstring("will retry"))
	})

	It("exits 3 for a pool that is not layered", func() {
		wait := startWait(uniqueName("not-layered"))
		out, code := wait.exit()
		Expect(code).To(Equal(status.ExitUsage), out)
		Expect(out).To(ContainSubstring("is not layered"))
	})
})

// `status --watch` into a pipe (a CI log): a line per stage change, then exit 0 on an interrupt.
var _ = Describe("ocl-guard status --watch", func() {
	It("prints a timestamped line for each stage that changes, and nothing else", func() {
		name := uniqueName("watch")
		image := "quay.io/acme/os" + builtDigest
		pool := newLayeredPool(name, "", 2)
		build := newBuild(name, pendingStatus())
		observe(&mcfgv1.MachineOSConfig{ObjectMeta: metav1.ObjectMeta{Name: name}}, build.Name)
		setPoolStatus(pool, 2, 0, poolCondition(mcfgv1.MachineConfigPoolUpdated, corev1.ConditionFalse, "", ""))

		binary, kubeconfigPath := oclGuardBinary("ocl-guard")
		out := gbytes.NewBuffer()
		watch := exec.Command(binary, "status", name, "--watch", "--probe-registry=false", "--kubeconfig", kubeconfigPath)
		watch.Stdout, watch.Stderr = out, out
		Expect(watch.Start()).To(Succeed())
		exited := make(chan error, 1)
		go func() { exited <- watch.Wait() }()
		DeferCleanup(func() { _ = watch.Process.Kill() })

		stamped := `(?m)^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ` + name + " "
		Eventually(func() string { return string(out.Contents()) }).WithTimeout(time.Minute).Should(MatchRegexp(stamped + `build   MachineOSBuild ` + build.Name + `: Pending$`))
		Expect(string(out.Contents())).To(MatchRegexp(stamped + `rollout 0/2 nodes updated$`))
		setBuildStatus(build, buildingStatus(time.Second))
		Eventually(func() string { return string(out.Contents()) }).WithTimeout(time.Minute).Should(MatchRegexp(stamped + `build   MachineOSBuild ` + build.Name + `: Building$`))
		setBuildStatus(build, succeededStatus(0, image))
		Eventually(func() string { return string(out.Contents()) }).WithTimeout(time.Minute).Should(MatchRegexp(stamped + `build   MachineOSBuild ` + build.Name + `: Succeeded$`))
		Expect(strings.Count(string(out.Contents()), name+" rollout ")).To(Equal(1), "the rollout did not change:\n"+string(out.Contents()))
		Expect(string(out.Contents())).NotTo(ContainSubstring("\x1b["), "no cursor movement outside a terminal")

		Expect(watch.Process.Signal(os.Interrupt)).To(Succeed())
		Eventually(exited).WithTimeout(time.Minute).Should(Receive(BeNil()), func() string { return string(out.Contents()) })
	})
})

// `status --watch` on a terminal (a pty, as a person's shell gives it): the frame is redrawn in place, moving the
// cursor up by the rows the last frame took at the terminal's width, which the binary reads from the pty.
var _ = Describe("ocl-guard status --watch on a terminal", func() {
	It("redraws the frame in place, counting wrapped lines at the terminal's width", func() {
		name := uniqueName("watch-tty")
		pool := newLayeredPool(name, "", 2)
		build := newBuild(name, pendingStatus())
		observe(&mcfgv1.MachineOSConfig{ObjectMeta: metav1.ObjectMeta{Name: name}}, build.Name)
		setPoolStatus(pool, 2, 0, poolCondition(mcfgv1.MachineConfigPoolUpdated, corev1.ConditionFalse, "", ""))

		const columns = 50 // narrower than the frame's longest lines, so that some wrap
		binary, kubeconfigPath := oclGuardBinary("ocl-guard")
		watch := exec.Command(binary, "status", name, "--watch", "--probe-registry=false", "--kubeconfig", kubeconfigPath)
		terminal, err := pty.StartWithSize(watch, &pty.Winsize{Rows: 60, Cols: columns})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { _ = watch.Process.Kill(); _ = terminal.Close() })
		out := gbytes.NewBuffer()
		go func() { _, _ = io.Copy(out, terminal) }() // ends with EIO when the process exits
		exited := make(chan error, 1)
		go func() { exited <- watch.Wait() }()
		screen := func() string { return strings.ReplaceAll(string(out.Contents()), "\r\n", "\n") } // the pty's ONLCR

		Eventually(screen).WithTimeout(time.Minute).Should(ContainSubstring("MachineOSBuild " + build.Name + ": Pending"))
		setBuildStatus(build, buildingStatus(time.Second))
		redraw := regexp.MustCompile(`\x1b\[(\d+)F\x1b\[J`)
		Eventually(screen).WithTimeout(time.Minute).Should(MatchRegexp(redraw.String() + `(?s).*MachineOSBuild ` + build.Name + `: Building`))

		// The first redraw goes back over exactly the rows of the first frame at 50 columns.
		text := screen()
		at := redraw.FindStringSubmatchIndex(text)
		start := strings.Index(text, "ocl-guard status --watch, ") // after the settings line, on stderr
		Expect(start).To(BeNumerically(">=", 0), text)
		first := strings.Split(strings.TrimSuffix(text[start:at[0]], "\n"), "\n")
		wantRows, wrapped := 0, false
		for _, line := range first {
			n := utf8.RuneCountInString(line)
			wantRows += max(1, (n+columns-1)/columns)
			wrapped = wrapped || n > columns
		}
		Expect(wrapped).To(BeTrue(), "no line of the first frame wraps at %d columns:\n%s", columns, text[start:at[0]])
		Expect(text[at[2]:at[3]]).To(Equal(strconv.Itoa(wantRows)), "the first frame:\n%s", text[start:at[0]])
		Expect(text).To(MatchRegexp(`rollout  \[-+\] 0/2 nodes updated`))

		Expect(watch.Process.Signal(os.Interrupt)).To(Succeed())
		Eventually(exited).WithTimeout(time.Minute).Should(Receive(BeNil()), screen)
	})
})

func pendingStatus() mcfgv1.MachineOSBuildStatus {
	return mcfgv1.MachineOSBuildStatus{Conditions: []metav1.Condition{
		condition(mcfgv1.MachineOSBuildPrepared, metav1.ConditionTrue, "Prepared", 0),
		condition(mcfgv1.MachineOSBuilding, metav1.ConditionFalse, "Building", 0),
		condition(mcfgv1.MachineOSBuildFailed, metav1.ConditionFalse, "BuildFailed", 0),
		condition(mcfgv1.MachineOSBuildInterrupted, metav1.ConditionFalse, "Interrupted", 0),
		condition(mcfgv1.MachineOSBuildSucceeded, metav1.ConditionFalse, "Ready", 0),
	}}
}

// setBuildStatus writes a build's status as the MCO's build controller does, keeping its recorded Job and start.
func setBuildStatus(build *mcfgv1.MachineOSBuild, s mcfgv1.MachineOSBuildStatus) {
	GinkgoHelper()
	Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := kube.Get(ctx, client.ObjectKeyFromObject(build), build); err != nil {
			return err
		}
		s.Builder = build.Status.Builder
		if build.Status.BuildStart != nil { // the CRD keeps it once set, as the MCO does
			s.BuildStart = build.Status.BuildStart
		}
		build.Status = s
		return kube.Status().Update(ctx, build)
	})).To(Succeed())
}

// runningWait is the ocl-guard wait binary running in the background.
type runningWait struct {
	cmd  *exec.Cmd
	out  *gbytes.Buffer
	done chan struct{}
	err  error
}

func startWait(pool string, args ...string) *runningWait {
	GinkgoHelper()
	_, kubeconfigPath := oclGuardBinary("ocl-guard")
	return startWaitAs(kubeconfigPath, pool, args...)
}

// startWaitAs runs the wait with the credentials of kubeconfigPath.
func startWaitAs(kubeconfigPath, pool string, args ...string) *runningWait {
	GinkgoHelper()
	binary, _ := oclGuardBinary("ocl-guard")
	w := &runningWait{out: gbytes.NewBuffer(), done: make(chan struct{})}
	w.cmd = exec.Command(binary, append([]string{"wait", pool, "--kubeconfig", kubeconfigPath}, args...)...)
	w.cmd.Stdout, w.cmd.Stderr = w.out, w.out
	Expect(w.cmd.Start()).To(Succeed())
	go func() {
		w.err = w.cmd.Wait()
		close(w.done)
	}()
	DeferCleanup(func() {
		_ = w.cmd.Process.Kill()
		<-w.done
	})
	return w
}

// sees waits for the wait to print line (part of it), which it prints only for what it has seen, and checks that it
// is still waiting then.
func (w *runningWait) sees(line string) {
	GinkgoHelper()
	Eventually(func() string { return string(w.out.Contents()) }).WithTimeout(time.Minute).Should(ContainSubstring(line))
	select {
	case <-w.done:
		Fail("the wait exited after printing " + line + ":\n" + string(w.out.Contents()))
	default:
	}
}

// exit waits for the wait to end and returns what it printed and its exit code.
func (w *runningWait) exit() (string, int) {
	GinkgoHelper()
	Eventually(w.done).WithTimeout(time.Minute).Should(BeClosed(), func() string { return string(w.out.Contents()) })
	var exitErr *exec.ExitError
	if errors.As(w.err, &exitErr) {
		return string(w.out.Contents()), exitErr.ExitCode()
	}
	Expect(w.err).NotTo(HaveOccurred())
	return string(w.out.Contents()), 0
}
