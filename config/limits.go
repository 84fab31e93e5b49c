package config

import "github.com/ocl-guard/ocl-guard/diagnose"

// BuildLimits are the build rules' thresholds from the settings.
func (c CheckerSettings) BuildLimits() diagnose.BuildLimits {
	return diagnose.BuildLimits{StuckAfter: c.BuildStuckAfter.Duration, PendingAfter: c.BuildPendingAfter.Duration}
}

// RolloutLimits are the rollout rules' thresholds from the settings.
func (c CheckerSettings) RolloutLimits() diagnose.RolloutLimits {
	return diagnose.RolloutLimits{StartAfter: c.RolloutStartAfter.Duration, StallAfter: c.RolloutStallAfter.Duration, RebootAfter: c.NodeRebootAfter.Duration}
}

// ConfigLimits are the MachineOSConfig rules' thresholds from the settings.
func (c CheckerSettings) ConfigLimits() diagnose.ConfigLimits {
	return diagnose.ConfigLimits{ObserveAfter: c.ConfigObserveAfter.Duration}
}
