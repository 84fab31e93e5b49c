package validators

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestValidatePoolExists(t *testing.T) {
	for _, tc := range []struct {
		name string
		pool string
		err  error
		want want
	}{
		{"present", "worker", nil, want{}},
		{"absent", "infra", nil, want{errs: []string{"spec.machineConfigPool.name|" + notFound + `|no MachineConfigPool "infra"; 'oc get machineconfigpools'`}}},
		{"lookup failed", "worker", errors.New("connection refused"), want{warnings: []string{`could not read MachineConfigPool "worker": connection refused`}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mosc := goodConfig()
			mosc.Spec.MachineConfigPool.Name = tc.pool
			cluster := newClusterFixture()
			cluster.lookupErr = tc.err
			checkFindings(t, validate(context.Background(), ValidatePoolExists, mosc, cluster), tc.want)
		})
	}
}

func TestValidateBuildNameLength(t *testing.T) {
	for _, tc := range []struct {
		name string
		want want
	}{
		{"worker", want{}},
		{strings.Repeat("p", 24), want{}},
		{strings.Repeat("p", 25), want{errs: []string{"metadata.name|" + tooLong + "|would be 64 characters, over the 63 allowed in its job-name label"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mosc := goodConfig()
			mosc.Name = tc.name
			checkFindings(t, validate(context.Background(), ValidateBuildNameLength, mosc, nil), tc.want)
		})
	}
}
