// Package crdschema validates a custom resource the way the API server does on create, from the CRD that defines
// it: defaulting, pruning of unknown fields, the OpenAPI structural schema (types, enums, lengths, patterns,
// list-map keys) and the CEL x-kubernetes-validations. It composes the API server's own packages from
// k8s.io/apiextensions-apiserver (the steps of pkg/apiserver/customresource_handler.go's schema coercer and of
// pkg/registry/customresource/strategy.go's Validate), so `ocl-guard check` refuses exactly what `oc apply` would.
//
// The MachineOSConfig CRD is embedded: CI runs the binary without a module cache. The copy is the openshift/api
// module's file byte for byte (crdschema_test.go compares them; `go generate ./crdschema` refreshes it after a bump).
package crdschema

//go:generate sh -c "cp \"$(go list -m -f '{{.Dir}}' github.com/openshift/api)/machineconfiguration/v1/zz_generated.crd-manifests/0000_80_machine-config_01_machineosconfigs.crd.yaml\" . && chmod 644 ./*.crd.yaml"

import (
	"context"
	_ "embed"
	"fmt"
	"sync"

	"k8s.io/apiextensions-apiserver/pkg/apihelpers"
	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	metavalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"sigs.k8s.io/yaml"
)

// RuleID names schema findings in `ocl-guard check` output. It is not a rule in validators.Stage1Rules: the API
// server applies the schema whatever ocl-guard's settings say, so it cannot be switched off.
const RuleID = "crd-schema"

//go:embed 0000_80_machine-config_01_machineosconfigs.crd.yaml
var machineOSConfigCRD []byte

// Schema is one served version of a CRD, ready to validate objects.
type Schema struct {
	gvk        schema.GroupVersionKind
	namespaced bool
	hasStatus  bool
	structural *structuralschema.Structural
	validator  apiservervalidation.SchemaValidator
	cel        *cel.Validator // nil when the schema has no x-kubernetes-validations
}

// Result is what the API server would make of a create request.
type Result struct {
	// Object is the object as it would be stored: defaulted, pruned, without status.
	Object map[string]any
	// Unknown lists the fields the schema does not declare. `oc apply` (kubectl's --validate=strict default) refuses
	// the object for them; clients without strict field validation see them silently dropped.
	Unknown []string
	// Errs are the validation errors the API server would answer with, one per field.
	Errs field.ErrorList
}

// MachineOSConfig returns the schema of machineconfiguration.openshift.io/v1 MachineOSConfig, built once.
var MachineOSConfig = sync.OnceValues(func() (*Schema, error) { return New(machineOSConfigCRD, "v1") })

// New builds the schema of one version of the CRD in crdYAML.
func New(crdYAML []byte, version string) (*Schema, error) {
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.UnmarshalStrict(crdYAML, &crd); err != nil {
		return nil, fmt.Errorf("parsing the CRD: %w", err)
	}
	v1Validation, err := apihelpers.GetSchemaForVersion(&crd, version)
	if err != nil || v1Validation == nil {
		return nil, fmt.Errorf("CRD %s has no schema for version %q (%v)", crd.Name, version, err)
	}
	var internal apiextensions.CustomResourceValidation
	if err := apiextensionsv1.Convert_v1_CustomResourceValidation_To_apiextensions_CustomResourceValidation(v1Validation, &internal, nil); err != nil {
		return nil, fmt.Errorf("CRD %s: converting the schema: %w", crd.Name, err)
	}
	structural, err := structuralschema.NewStructural(internal.OpenAPIV3Schema)
	if err != nil {
		return nil, fmt.Errorf("CRD %s: the schema is not structural: %w", crd.Name, err)
	}
	// As the API server does when it serves a CRD: defaults that would themselves be pruned are dropped.
	structural = structural.DeepCopy()
	if err := structuraldefaulting.PruneDefaults(structural); err != nil {
		return nil, fmt.Errorf("CRD %s: pruning defaults: %w", crd.Name, err)
	}
	validator, _, err := apiservervalidation.NewSchemaValidator(internal.OpenAPIV3Schema)
	if err != nil {
		return nil, fmt.Errorf("CRD %s: building the schema validator: %w", crd.Name, err)
	}
	s := &Schema{
		gvk:        schema.GroupVersionKind{Group: crd.Spec.Group, Version: version, Kind: crd.Spec.Names.Kind},
		namespaced: crd.Spec.Scope == apiextensionsv1.NamespaceScoped,
		structural: structural,
		validator:  validator,
		cel:        cel.NewValidator(structural, true, celconfig.PerCallLimit),
	}
	for _, v := range crd.Spec.Versions {
		if v.Name == version && v.Subresources != nil && v.Subresources.Status != nil {
			s.hasStatus = true
		}
	}
	return s, nil
}

// GroupVersionKind is the kind this schema validates.
func (s *Schema) GroupVersionKind() schema.GroupVersionKind { return s.gvk }

// ValidateCreate answers what the API server would answer to a create of obj, which it does not modify.
func (s *Schema) ValidateCreate(ctx context.Context, obj map[string]any) Result {
	u := &unstructured.Unstructured{Object: runtime.DeepCopyJSON(obj)}
	r := Result{Object: u.Object}
	var err *field.Error
	if r.Unknown, err = s.decode(u); err != nil {
		r.Errs = field.ErrorList{err}
		return r
	}
	if s.hasStatus {
		delete(u.Object, "status") // a create cannot set status when the status subresource is enabled
	}
	r.Errs = s.validate(ctx, u)
	return r
}

// decode is the request decoding's part: defaulting, then pruning and metadata coercion, reporting what was pruned.
func (s *Schema) decode(u *unstructured.Unstructured) ([]string, *field.Error) {
	structuraldefaulting.Default(u.Object, s.structural)
	kind, apiVersion := u.GetKind(), u.GetAPIVersion()
	objectMeta, hasMeta, unknown, err := schemaobjectmeta.GetObjectMetaWithOptions(u.Object, schemaobjectmeta.ObjectMetaOptions{ReturnUnknownFieldPaths: true})
	if err != nil {
		return nil, field.Invalid(field.NewPath("metadata"), nil, err.Error())
	}
	unknown = append(unknown, structuralpruning.PruneWithOptions(u.Object, s.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})...)
	structuraldefaulting.PruneNonNullableNullsWithoutDefaults(u.Object, s.structural)
	fieldErr, paths := schemaobjectmeta.CoerceWithOptions(nil, u.Object, s.structural, false, schemaobjectmeta.CoerceOptions{ReturnUnknownFieldPaths: true})
	if fieldErr != nil {
		return nil, fieldErr
	}
	unknown = append(unknown, paths...)
	u.SetKind(kind)
	u.SetAPIVersion(apiVersion)
	if hasMeta {
		if err := schemaobjectmeta.SetObjectMeta(u.Object, objectMeta); err != nil {
			return nil, field.Invalid(field.NewPath("metadata"), nil, err.Error())
		}
	}
	return unknown, nil
}

// validate is the create strategy's Validate.
func (s *Schema) validate(ctx context.Context, u *unstructured.Unstructured) field.ErrorList {
	if errs := s.validateTypeMeta(u); len(errs) > 0 {
		return errs
	}
	var errs field.ErrorList
	errs = append(errs, metavalidation.ValidateObjectMetaAccessor(u, s.namespaced, metavalidation.NameIsDNSSubdomain, field.NewPath("metadata"))...)
	errs = append(errs, apiservervalidation.ValidateCustomResource(nil, u.Object, s.validator)...)
	errs = append(errs, schemaobjectmeta.Validate(nil, u.Object, s.structural, false)...)
	errs = append(errs, listtype.ValidateListSetsAndMaps(nil, s.structural, u.Object)...)
	if s.cel == nil {
		return errs
	}
	if blocking := blockingErr(errs); blocking != nil {
		return append(errs, blocking)
	}
	celErrs, _ := s.cel.Validate(ctx, nil, s.structural, u.Object, nil, celconfig.RuntimeCELCostBudget)
	return append(errs, celErrs...)
}

func (s *Schema) validateTypeMeta(u *unstructured.Unstructured) field.ErrorList {
	var errs field.ErrorList
	if u.GetKind() != s.gvk.Kind {
		errs = append(errs, field.Invalid(field.NewPath("kind"), u.GetKind(), "must be "+s.gvk.Kind))
	}
	if want := s.gvk.GroupVersion().String(); u.GetAPIVersion() != want {
		errs = append(errs, field.Invalid(field.NewPath("apiVersion"), u.GetAPIVersion(), "must be "+want))
	}
	return errs
}

// blockingErr is the API server's rule for skipping CEL: after these errors the rules' inputs cannot be trusted
// (apiextensions-apiserver pkg/registry/customresource/strategy.go hasBlockingErr, same types and message).
func blockingErr(errs field.ErrorList) *field.Error {
	for _, err := range errs {
		switch err.Type {
		case field.ErrorTypeNotSupported, field.ErrorTypeRequired, field.ErrorTypeTooLong, field.ErrorTypeTooMany, field.ErrorTypeTypeInvalid:
			return field.Invalid(nil, nil, "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation")
		}
	}
	return nil
}
