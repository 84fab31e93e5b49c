package validators

import (
	"context"
	"testing"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
)

func TestValidateContainerfile(t *testing.T) {
	entry := func(arch mcfgv1.ContainerfileArch, content string) mcfgv1.MachineOSContainerfile {
		return mcfgv1.MachineOSContainerfile{ContainerfileArch: arch, Content: content}
	}
	const noFrom = "containerFile has no FROM, so it extends the MCO's own stage"
	for _, tc := range []struct {
		name    string
		entries []mcfgv1.MachineOSContainerfile
		want    want
	}{
		{"none", nil, want{}},
		{"final stage on configs", []mcfgv1.MachineOSContainerfile{entry(mcfgv1.NoArch, "FROM configs AS final\nRUN rpm-ostree install tree && \\\n    ostree container commit\n")}, want{}},
		{"arch defaults to NoArch", []mcfgv1.MachineOSContainerfile{entry("", "FROM configs AS final\nRUN true\n")}, want{}},
		{"multi-stage with its own base", []mcfgv1.MachineOSContainerfile{entry(mcfgv1.NoArch,
			"FROM quay.io/fedora/fedora:41 AS build\nRUN make\nFROM configs AS final\nCOPY --from=build /out /usr/bin/\n")}, want{}},
		{"no FROM: parsed as a continuation of the MCO's stage", []mcfgv1.MachineOSContainerfile{entry(mcfgv1.NoArch, "RUN rpm-ostree install tree\nENV A=b\n")},
			want{warnings: []string{noFrom}}},
		{"unknown instruction", []mcfgv1.MachineOSContainerfile{entry(mcfgv1.NoArch, "FROM configs AS final\nRUNN rpm-ostree install tree\n")},
			want{errs: []string{"spec.containerFile[0].content|" + invalid + `|line 2 of containerFile[0].content: the MCO refuses it before any build starts: ` +
				`"Containerfile validation failed: unknown Dockerfile instruction: runn"; RUNN is no Containerfile instruction; did you mean RUN?`}}},
		{"unknown instruction without FROM keeps its line number", []mcfgv1.MachineOSContainerfile{entry(mcfgv1.NoArch, "RUN true\nCOPPY a b\n")},
			want{errs: []string{"spec.containerFile[0].content|" + invalid + `|line 2 of containerFile[0].content: the MCO refuses it before any build starts: ` +
				`"Containerfile validation failed: unknown Dockerfile instruction: coppy"; COPPY is no Containerfile instruction; did you mean COPY?`}}},
		{"instruction missing its arguments", []mcfgv1.MachineOSContainerfile{entry(mcfgv1.NoArch, "FROM configs AS final\nENV\n")},
			want{errs: []string{"spec.containerFile[0].content|" + invalid + `|line 2 of containerFile[0].content: the MCO refuses it before any build starts: ` +
				`"Containerfile validation failed: ENV instruction requires key=value pairs"; give it key=value pairs`}}},
		{"the NoArch entry is the second", []mcfgv1.MachineOSContainerfile{
			entry(mcfgv1.Amd64, "FROM configs AS final\nRUN true\n"), entry(mcfgv1.NoArch, "FROM configs AS final\n\nRUNN true\n")},
			want{errs: []string{"spec.containerFile[1].content|" + invalid + "|line 3 of containerFile[1].content: the MCO refuses it"},
				warnings: []string{"spec.containerFile[0] (AMD64) is ignored"}}},
		{"arch-specific entry is ignored today", []mcfgv1.MachineOSContainerfile{
			entry(mcfgv1.NoArch, "FROM configs AS final\nRUN true\n"), entry(mcfgv1.Amd64, "FROM configs AS final\nRUN true\n")},
			want{warnings: []string{"spec.containerFile[1] (AMD64) is ignored: the MCO builds only the NoArch entry today"}}},
		{"only an arch-specific entry", []mcfgv1.MachineOSContainerfile{entry(mcfgv1.Arm64, "RUN true\n")},
			want{warnings: []string{"(ARM64) is ignored", noFrom}}},
		// The MCO never reads an entry that is not NoArch, so nothing in it is denied.
		{"an ignored entry is broken", []mcfgv1.MachineOSContainerfile{
			entry(mcfgv1.NoArch, "FROM configs AS final\n"), entry(mcfgv1.S390, "FROM configs AS final\nEXPOSE\n")},
			want{warnings: []string{"(S390X) is ignored", "spec.containerFile[1].content: buildkit's Dockerfile parser refuses it " +
				"(dockerfile parse error on line 2: EXPOSE requires at least one argument); the MCO ignores this entry today"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mosc := goodConfig()
			mosc.Spec.Containerfile = tc.entries
			checkFindings(t, validate(context.Background(), ValidateContainerfile, mosc, nil), tc.want)
		})
	}
}
