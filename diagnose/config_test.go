package diagnose

import (
	"strings"
	"testing"
	"time"

	configv1 "github.com/openshift/api/config/v1"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/ocl-guard/ocl-guard/findings"
	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/validators"
)

var configNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// configFixture is a MachineOSConfig "worker" that the MCO has built once (generation observed, build recorded), with
// its pool, a running machine-os-builder and a healthy ClusterOperator.
func configFixture() ConfigSnapshot {
	mosc := &mcfgv1.MachineOSConfig{
		ObjectMeta: metav1.ObjectMeta{
			Name: "worker", Generation: 2, CreationTimestamp: metav1.NewTime(configNow.Add(-48 * time.Hour)),
			Annotations: map[string]string{mco.AnnotationCurrentBuild: "worker-aaa"},
		},
		Spec: mcfgv1.MachineOSConfigSpec{MachineConfigPool: mcfgv1.MachineConfigPoolReference{Name: "worker"}},
		Status: mcfgv1.MachineOSConfigStatus{
			ObservedGeneration: 2,
			MachineOSBuild:     &mcfgv1.ObjectReference{Name: "worker-aaa"},
		},
	}
	return ConfigSnapshot{
		Config:      mosc,
		Pool:        &mcfgv1.MachineConfigPool{ObjectMeta: metav1.ObjectMeta{Name: "worker"}},
		Operator:    &configv1.ClusterOperator{ObjectMeta: metav1.ObjectMeta{Name: mco.OperatorName}},
		BuilderRead: true,
		Builder:     &appsv1.Deployment{Status: appsv1.DeploymentStatus{Replicas: 1, AvailableReplicas: 1}},
		Now:         configNow,
	}
}

func degradedOperator(message string) *configv1.ClusterOperator {
	return &configv1.ClusterOperator{
		ObjectMeta: metav1.ObjectMeta{Name: mco.OperatorName},
		Status: configv1.ClusterOperatorStatus{Conditions: []configv1.ClusterOperatorStatusCondition{
			{Type: configv1.OperatorAvailable, Status: configv1.ConditionTrue},
			{Type: configv1.OperatorDegraded, Status: configv1.ConditionTrue, Reason: "MachineOSBuilderFailed", Message: message},
		}},
	}
}

// ruleErrors are a rule's errors with the outcome its action gave them.
func ruleErrors(id findings.RuleID, outcome findings.Outcome, errs ...string) findings.List {
	var l findings.List
	for _, e := range errs {
		l = append(l, findings.FromError(id, outcome, field.Invalid(field.NewPath("spec", "renderedImagePushSecret", "name"), "x", e)))
	}
	return l
}

func TestDiagnoseConfig(t *testing.T) {
	for _, tc := range []struct {
		name     string
		edit     func(s *ConfigSnapshot)
		want     Reason
		severity Severity
		inMsg    []string
		inEvid   string
	}{
		{name: "built, observed, builder running: healthy", edit: func(*ConfigSnapshot) {}},
		{
			// pkg/controller/build/helpers.go validateSecret via ValidateOnClusterBuildConfig, wrapped by
			// pkg/operator/sync.go startOrUpdateMachineOSBuilderDeployment and pkg/operator/status.go syncDegradedStatus.
			name: "operator refuses the builder over this config's missing secret",
			edit: func(s *ConfigSnapshot) {
				s.Operator = degradedOperator(`Failed to resync 4.20.0 because: could not update Machine OS Builder deployment: could not validate renderedImagePushSecret "push" for MachineOSConfig worker: secret push from worker is not found. Did you use the right secret name?`)
				s.Builder = nil
			},
			want: BuilderNotRunning, severity: SeverityError,
			inMsg:  []string{"MachineOSConfig worker", "machine-os-builder", "create the secret"},
			inEvid: "Did you use the right secret name?",
		},
		{
			// pkg/operator/sync.go validateLayeredPoolNodes.
			name: "operator refuses the builder over a RHEL node in the pool",
			edit: func(s *ConfigSnapshot) {
				s.Operator = degradedOperator(`Failed to resync 4.20.0 because: on-cluster layering is only supported on CoreOS-based nodes: non-CoreOS OS "Red Hat Enterprise Linux 8.10 (Ootpa)" detected on node "rhel-1" in MachineConfigPool(s) ["worker"]`)
			},
			want: BuilderNotRunning, inMsg: []string{"non-CoreOS"}, inEvid: "rhel-1",
		},
		{
			// helpers.go validateMachineOSConfig: the push spec fails reference.ParseNamed ("renderdImagePushspec", sic).
			name: "operator refuses over another config while the builder still runs: not ours",
			edit: func(s *ConfigSnapshot) {
				s.Operator = degradedOperator(`Failed to resync 4.20.0 because: could not update Machine OS Builder deployment: could not validate renderdImagePushspec quay.io/A/b:latest for MachineOSConfig infra: invalid reference format: repository name (A/b) must be lowercase`)
			},
		},
		{
			name: "operator refuses over another config and the builder is gone: ours too",
			edit: func(s *ConfigSnapshot) {
				s.Operator = degradedOperator(`Failed to resync 4.20.0 because: could not update Machine OS Builder deployment: could not validate renderdImagePushspec quay.io/A/b:latest for MachineOSConfig infra: invalid reference format: repository name (A/b) must be lowercase`)
				s.Builder = nil
			},
			want: BuilderNotRunning, inMsg: []string{"renderedImagePushSpec"},
		},
		{
			name: "builder missing, no operator word, spec change waiting past the limit",
			edit: func(s *ConfigSnapshot) {
				s.Config.Generation = 3
				s.Previous = ConfigWait{Generation: 3, GenerationSince: configNow.Add(-time.Hour)}
				s.Builder = &appsv1.Deployment{Status: appsv1.DeploymentStatus{Replicas: 1, Conditions: []appsv1.DeploymentCondition{
					{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionFalse, Reason: "MinimumReplicasUnavailable", Message: "Deployment does not have minimum availability."}}}}
			},
			want: BuilderNotRunning, inMsg: []string{"waiting 1h", "generation 3"}, inEvid: "0 of 1 replicas available, Available=False MinimumReplicasUnavailable",
		},
		{
			name: "builder missing but nothing to build: nothing to say",
			edit: func(s *ConfigSnapshot) { s.Builder = nil },
		},
		{
			name: "builder unreadable: no verdict on it",
			edit: func(s *ConfigSnapshot) {
				s.BuilderRead, s.Builder = false, nil
				s.Config.Generation = 3
				s.Previous = ConfigWait{Generation: 3, GenerationSince: configNow.Add(-time.Hour)}
			},
			want: GenerationNotObserved,
		},
		{
			name: "deny rule fails",
			edit: func(s *ConfigSnapshot) {
				s.Findings = ruleErrors(validators.RuleSecretExists, findings.Fail, "no Secret push")
			},
			want: ConfigCheckFailed, severity: SeverityError, inMsg: []string{"would fail", "spec.renderedImagePushSecret.name", "no Secret push"},
		},
		{
			name: "warn rule fails",
			edit: func(s *ConfigSnapshot) {
				s.Findings = ruleErrors(validators.RulePushSpecReachable, findings.Warn, "unreachable")
			},
			want: ConfigCheckFailed, severity: SeverityWarning, inMsg: []string{"may fail"},
		},
		{
			// pkg/controller/build/reconciler.go createNewMachineOSBuildOrReuseExisting / shouldPreventBuildDueToDegradation.
			name: "spec change waiting while the pool is NodeDegraded",
			edit: func(s *ConfigSnapshot) {
				s.Config.Generation = 3
				s.Pool.Status.Conditions = []mcfgv1.MachineConfigPoolCondition{{Type: mcfgv1.MachineConfigPoolNodeDegraded, Status: corev1.ConditionTrue,
					Reason: "1 nodes are reporting degraded status on sync", Message: `Node worker-0 is reporting: "unexpected on-disk state"`}}
			},
			want: PoolDegradedBlocksBuild, severity: SeverityError,
			inMsg: []string{"degraded due to non-build issues", "NodeDegraded"}, inEvid: "worker-0",
		},
		{
			name: "pool RenderDegraded but nothing waits: the pool's own diagnosis covers it",
			edit: func(s *ConfigSnapshot) {
				s.Pool.Status.Conditions = []mcfgv1.MachineConfigPoolCondition{{Type: mcfgv1.MachineConfigPoolRenderDegraded, Status: corev1.ConditionTrue}}
			},
		},
		{
			name: "rebuild annotation set an hour ago",
			edit: func(s *ConfigSnapshot) {
				s.Config.Annotations[mco.AnnotationRebuild] = ""
				s.Previous = ConfigWait{RebuildSince: configNow.Add(-time.Hour)}
			},
			want: RebuildNotStarted, severity: SeverityWarning, inMsg: []string{"worker-aaa", "deployment/machine-os-builder"},
		},
		{
			name: "rebuild annotation just seen: the clock starts",
			edit: func(s *ConfigSnapshot) { s.Config.Annotations[mco.AnnotationRebuild] = "" },
		},
		{
			// reconciler.go rebuildMachineOSConfig: "does not have current build annotation ... skipping rebuild".
			name: "rebuild on a config that never built",
			edit: func(s *ConfigSnapshot) {
				delete(s.Config.Annotations, mco.AnnotationCurrentBuild)
				s.Config.Annotations[mco.AnnotationRebuild] = ""
				s.Previous = ConfigWait{RebuildSince: configNow.Add(-time.Hour)}
			},
			want: RebuildNotStarted, inMsg: []string{"ignores it"},
		},
		{
			name: "new config never built, created an hour ago",
			edit: func(s *ConfigSnapshot) {
				s.Config.Generation, s.Config.Status = 1, mcfgv1.MachineOSConfigStatus{}
				s.Config.CreationTimestamp = metav1.NewTime(configNow.Add(-time.Hour))
				delete(s.Config.Annotations, mco.AnnotationCurrentBuild)
			},
			want: GenerationNotObserved, inMsg: []string{"no build started 1h after"},
		},
		{
			name: "new config created a minute ago: still in time",
			edit: func(s *ConfigSnapshot) {
				s.Config.Generation, s.Config.Status = 1, mcfgv1.MachineOSConfigStatus{}
				s.Config.CreationTimestamp = metav1.NewTime(configNow.Add(-time.Minute))
				delete(s.Config.Annotations, mco.AnnotationCurrentBuild)
			},
		},
		{
			name: "limit is configurable",
			edit: func(s *ConfigSnapshot) {
				s.Config.Generation = 3
				s.Previous = ConfigWait{Generation: 3, GenerationSince: configNow.Add(-2 * time.Minute)}
				s.Limits.ObserveAfter = time.Minute
			},
			want: GenerationNotObserved, inMsg: []string{"generation 3", "2m"},
		},
		{
			// reconciler.go updateMachineOSConfigStatus: the annotation moves when a build starts, the status only
			// after success.
			name: "rebuild failed while the previous image is rolled out",
			edit: func(s *ConfigSnapshot) {
				s.Config.Annotations[mco.AnnotationCurrentBuild] = "worker-bbb"
				s.Config.Status.CurrentImagePullSpec = "quay.io/acme/os@sha256:aaa"
				s.CurrentBuild = &mcfgv1.MachineOSBuild{ObjectMeta: metav1.ObjectMeta{Name: "worker-bbb"}, Status: mcfgv1.MachineOSBuildStatus{
					Conditions: []metav1.Condition{{Type: string(mcfgv1.MachineOSBuildFailed), Status: metav1.ConditionTrue, Reason: "Failed", Message: "Build Failed"}}}}
			},
			want: CurrentBuildFailed, severity: SeverityError,
			inMsg: []string{"worker-bbb", "the previous image quay.io/acme/os@sha256:aaa"}, inEvid: "Failed: Build Failed",
		},
		{
			name: "current build still running: nothing to say here",
			edit: func(s *ConfigSnapshot) {
				s.CurrentBuild = &mcfgv1.MachineOSBuild{ObjectMeta: metav1.ObjectMeta{Name: "worker-aaa"}, Status: mcfgv1.MachineOSBuildStatus{
					Conditions: []metav1.Condition{{Type: string(mcfgv1.MachineOSBuilding), Status: metav1.ConditionTrue}}}}
			},
		},
		{
			name: "pool paused with a newer build than the nodes run",
			edit: func(s *ConfigSnapshot) {
				s.Pool.Spec.Paused = true
				s.Config.Annotations[mco.AnnotationCurrentBuild] = "worker-bbb"
			},
			want: PoolPaused, severity: SeverityInfo, inMsg: []string{"paused", "oc patch mcp worker"},
		},
		{
			name: "pool paused, nothing new: nothing to say",
			edit: func(s *ConfigSnapshot) { s.Pool.Spec.Paused = true },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := configFixture()
			tc.edit(&s)
			d := DiagnoseConfig(s)
			if d.Reason != tc.want {
				t.Fatalf("reason %q, want %q: %s | %s", d.Reason, tc.want, d.Message, d.Evidence)
			}
			if tc.severity != "" && d.Severity != tc.severity {
				t.Errorf("severity %s, want %s", d.Severity, tc.severity)
			}
			for _, want := range tc.inMsg {
				if !strings.Contains(d.Message, want) {
					t.Errorf("message lacks %q: %s", want, d.Message)
				}
			}
			if !strings.Contains(d.Evidence, tc.inEvid) {
				t.Errorf("evidence lacks %q: %s", tc.inEvid, d.Evidence)
			}
		})
	}
}

func TestDiagnoseConfigRulesAndRanking(t *testing.T) {
	s := configFixture()
	s.Findings = append(ruleErrors(validators.RuleSecretExists, findings.Fail, "gone"),
		append(ruleErrors(validators.RulePushSpecReachable, findings.Warn, "unreachable"),
			findings.Finding{Rule: validators.RuleContainerfile, Message: "parses", Outcome: findings.Pass})...)
	s.Operator = degradedOperator("could not validate renderedImagePushSecret \"push\" for MachineOSConfig worker: secret push from worker is not found. Did you use the right secret name?")
	d := DiagnoseConfig(s)
	if d.Reason != BuilderNotRunning {
		t.Fatalf("the operator's refusal ranks first: %+v", d)
	}
	if !strings.HasSuffix(d.Message, "(also: ConfigCheckFailed)") {
		t.Errorf("the config check is mentioned once: %s", d.Message)
	}
	if want := []validators.RuleID{validators.RulePushSpecReachable, validators.RuleSecretExists}; len(d.Rules) != 2 || d.Rules[0] != want[0] || d.Rules[1] != want[1] {
		t.Errorf("rules %v, want %v (rules with errors only, sorted)", d.Rules, want)
	}
	if strings.Contains(string(d.Reason), ",") {
		t.Errorf("rule IDs leaked into the reason: %s", d.Reason)
	}
}

func TestConfigWaitIsRemembered(t *testing.T) {
	s := configFixture()
	s.Config.Generation = 3
	s.Config.Annotations[mco.AnnotationRebuild] = ""
	first := DiagnoseConfig(s)
	if !first.Healthy() || first.Wait.Generation != 3 || !first.Wait.GenerationSince.Equal(configNow) || !first.Wait.RebuildSince.Equal(configNow) {
		t.Fatalf("first sight starts both clocks: %+v", first)
	}
	if in := first.RecheckIn(configNow, ConfigLimits{}); in != DefaultObserveAfter+time.Second {
		t.Errorf("recheck in %s, want just after the limit", in)
	}
	s.Previous, s.Now = first.Wait, configNow.Add(11*time.Minute)
	later := DiagnoseConfig(s)
	if later.Reason != RebuildNotStarted || later.Wait != first.Wait {
		t.Errorf("the clocks keep running from the first sight: %+v", later)
	}
	s.Config.Status.ObservedGeneration = 3
	delete(s.Config.Annotations, mco.AnnotationRebuild)
	if done := DiagnoseConfig(s); !done.Healthy() || done.Wait != (ConfigWait{}) || done.RecheckIn(s.Now, ConfigLimits{}) != 0 {
		t.Errorf("observed and rebuilt: nothing to wait for: %+v", done)
	}
}

func TestConfigReasonsAreListed(t *testing.T) {
	got := ConfigReasons()
	if len(got) != 7 || got[0] != BuilderNotRunning {
		t.Errorf("ConfigReasons() = %v", got)
	}
	if d := DiagnoseConfig(ConfigSnapshot{}); !d.Healthy() {
		t.Errorf("no config: %+v", d)
	}
}

func BenchmarkDiagnoseConfig(b *testing.B) {
	s := configFixture()
	s.Config.Generation = 3
	s.Previous = ConfigWait{Generation: 3, GenerationSince: configNow.Add(-time.Hour)}
	s.Findings = ruleErrors(validators.RuleSecretExists, findings.Fail, "gone")
	b.ReportAllocs()
	for b.Loop() {
		if d := DiagnoseConfig(s); d.Reason != ConfigCheckFailed {
			b.Fatal(d.Reason)
		}
	}
}
