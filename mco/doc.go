// Package mco is the one home of what ocl-guard knows about the Machine Config Operator's own behaviour: where it
// keeps things (namespaces, Secret and Deployment names), the keys it writes (annotations, labels), how it names a
// build's Job, which build it follows, a build's phase, and which pod of a build is the one to read. Every other
// package asks here and states none of it again; each fact cites the MCO source it mirrors
// (github.com/openshift/machine-config-operator unless said otherwise).
//
// The package holds facts, not judgements: it reads no cluster and decides no diagnosis.
package mco
