package e2e

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/config"
	"github.com/ocl-guard/ocl-guard/diagnose"
	"github.com/ocl-guard/ocl-guard/mustgather"
	"github.com/ocl-guard/ocl-guard/mustgather/mustgathertest"
	"github.com/ocl-guard/ocl-guard/status"
	"github.com/ocl-guard/ocl-guard/test/testbed"
	"github.com/ocl-guard/ocl-guard/validators"
)

// `ocl-guard status --from DIR` on the cluster written out as `oc adm inspect` writes it: the same report as live
// status, settings included, but for the rules a must-gather cannot judge.
var _ = Describe("ocl-guard status --from a must-gather", func() {
	It("says what live status says of the same cluster, apart from the rules not judged from a must-gather", func() {
		// Installed settings that change what is said (secret-exists warns), read from the dump as from the cluster.
		settings := config.Defaults()
		settings.Rules[validators.RuleSecretExists] = validators.ActionWarn
		install := uniqueName("ocl-guard-install")
		Expect(testbed.InstallSettings(ctx, kube, install, settings)).To(Succeed())
		playTheOperator()

		// The pools of the live status specs.
		failed, cannotPull, unobserved, rotated := seedStatusPools("from")
		pools := []string{failed, cannotPull, unobserved, rotated}

		dir := GinkgoT().TempDir()
		scheme, err := app.Scheme()
		Expect(err).NotTo(HaveOccurred())
		Expect(mustgathertest.Write(ctx, kube, scheme, dir, mustgathertest.Options{
			Namespaces: mustgather.StatusNamespaces(install), GatheredAt: time.Now(),
		})).To(Succeed())

		binary, kubeconfigPath := oclGuardBinary("ocl-guard")
		liveOut, liveErr, liveCode := runBinary(binary, "status", "-o", "json", "--kubeconfig", kubeconfigPath, "--probe-registry=false", "--ocl-guard-namespace", install)
		fromOut, fromErr, fromCode := runBinary(binary, "status", "--from", dir, "-o", "json", "--ocl-guard-namespace", install)
		// 1: the failed rebuild is a problem (other specs' pools are in the cluster too, so only that is certain).
		Expect(liveCode).To(Equal(1), liveErr)
		Expect(fromCode).To(Equal(1), fromErr)
		Expect(liveErr).To(HavePrefix("settings: ConfigMap " + install + "/ocl-guard-settings-"))
		settingsLine, _, _ := strings.Cut(liveErr, ";")
		Expect(fromErr).To(HavePrefix(settingsLine+"; must-gather "+dir+" as of "), "the installed settings, read from the dump; no file it could not read")
		Expect(strings.Count(fromErr, "\n")).To(Equal(1), fromErr)

		ours := func(js string) []status.Report {
			var reports []status.Report
			Expect(json.Unmarshal([]byte(js), &reports)).To(Succeed(), js)
			return slices.DeleteFunc(reports, func(r status.Report) bool { return !slices.Contains(pools, r.Pool) })
		}
		live, offline := ours(liveOut), ours(fromOut)
		Expect(offline).To(HaveLen(len(pools)))
		notJudged := 0
		for _, r := range offline {
			for _, f := range r.Config.Findings {
				if strings.HasPrefix(f.Message, mustgather.NotJudged) {
					notJudged++
				}
			}
		}
		Expect(notJudged).To(BeNumerically(">", 0), "a must-gather has no Secret data: some rules are not judged")
		live, offline = mustgathertest.WithoutNotJudged(live, offline)
		Expect(offline).To(Equal(live))

		byPool := map[string]status.Report{}
		for _, r := range offline {
			byPool[r.Pool] = r
		}
		Expect(byPool[failed].Build.Diagnosis.Reason).To(Equal(diagnose.PushDenied))
		Expect(byPool[cannotPull].Rollout.Diagnosis.Reason).To(Equal(diagnose.NodeImagePullAuth))
		Expect(byPool[rotated].Config.Diagnosis.Reason).To(Equal(diagnose.ConfigCheckFailed))
		Expect(byPool[rotated].Config.Diagnosis.Severity).To(Equal(diagnose.SeverityWarning), "secret-exists is warn in the installed settings")
	})
})
