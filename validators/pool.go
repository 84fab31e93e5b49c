package validators

import (
	"context"
	"fmt"

	"github.com/ocl-guard/ocl-guard/mco"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var poolNamePath = field.NewPath("spec", "machineConfigPool", "name")

// maxBuildNamePoolLength is the longest MachineOSConfig (and pool) name whose build Job name still fits a label
// value (mco.JobNameLength).
var maxBuildNamePoolLength = validation.LabelValueMaxLength - mco.JobNameLength("")

// ValidatePoolExists is rule pool-exists.
func ValidatePoolExists(ctx context.Context, in *Input) Findings {
	mosc := in.Config
	var f Findings
	pool := mosc.Spec.MachineConfigPool.Name
	if pool == "" {
		return f // required by the CRD
	}
	_, err := in.Facts.Pool.Get()
	switch {
	case err == nil:
	case apierrors.IsNotFound(err):
		f.add(&field.Error{Type: field.ErrorTypeNotFound, Field: poolNamePath.String(), BadValue: pool, Detail: fmt.Sprintf(
			"no MachineConfigPool %q; 'oc get machineconfigpools' lists the pools, or create the pool first", pool)})
	default:
		f.warn("could not read MachineConfigPool %q: %v", pool, err)
	}
	return f
}

// ValidateBuildNameLength is rule build-name-length. Derived from the MCO's naming code, not seen failing on a
// cluster, so it warns by default.
func ValidateBuildNameLength(_ context.Context, in *Input) Findings {
	mosc := in.Config
	var f Findings
	if n := mco.JobNameLength(mosc.Name); n > validation.LabelValueMaxLength {
		f.add(field.TooLong(field.NewPath("metadata", "name"), mosc.Name, maxBuildNamePoolLength))
		f.Errs[0].Detail = fmt.Sprintf("the build Job %s would be %d characters, over the %d allowed in its job-name label",
			mco.JobNameShape(mosc.Name), n, validation.LabelValueMaxLength)
	}
	return f
}
