# ocl-guard. `make test` runs every test against a real kube-apiserver, etcd and registry; `make run` starts a
# local control plane with the webhook registered. Both build what they need first.

# Every go command here, and those the tests run (the image build of test/tools/imagebuild, the binaries that
# test/process and test/e2e build), compiles as the image does: static (no cgo) and without local paths. With one
# configuration the build cache compiles each package once; with two, a cold `make test` compiled all of
# ocl-guard's dependencies a second time for the image test. (Stack traces show module paths; testbed.RepoRoot copes.)
export CGO_ENABLED ?= 0
GOFLAGS += -trimpath
export GOFLAGS

K8S_VERSION ?= 1.36.3
ETCD_VERSION ?= 3.6.8
ENVTEST_ASSETS := $(CURDIR)/bin/k8s/$(K8S_VERSION)
export KUBEBUILDER_ASSETS := $(ENVTEST_ASSETS)
GO_TEST_FLAGS ?=

STATICCHECK_VERSION ?= v0.8.2

.PHONY: all build plugin test early-tests checks unit envtest-assets kubectl test-deps run image push bench bench-admission vet lint fmt-check clean

all: build

build:
	go build -o bin/ocl-guard ./cmd/ocl-guard

## plugin: the same binary as a kubectl/oc plugin (`oc ocl-guard status`): put bin/kubectl-ocl_guard on $PATH.
plugin:
	go build -o bin/kubectl-ocl_guard ./cmd/ocl-guard

## envtest-assets: compile kube-apiserver and etcd, what the tests run, from Go modules into bin/k8s/<version> (cached).
envtest-assets:
	@K8S_VERSION=$(K8S_VERSION) ETCD_VERSION=$(ETCD_VERSION) test/tools/build-envtest-assets.sh >/dev/null

## kubectl: envtest-assets and kubectl beside them, for the commands `make run` prints.
kubectl:
	@K8S_VERSION=$(K8S_VERSION) ETCD_VERSION=$(ETCD_VERSION) test/tools/build-envtest-assets.sh kubectl >/dev/null

## test-deps: install Debian's docker-registry (registry tests) and prometheus (promtool, alert rule tests); skipped when present.
test-deps:
	@test/tools/install-test-deps.sh

VET := go vet ./...
STATICCHECK := go run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

vet:
	$(VET)

## lint: staticcheck, pinned, fetched through the Go module proxy.
lint:
	$(STATICCHECK)

# checks: gofmt, go vet, staticcheck, one after the other: vet and staticcheck compile the same packages, and two go
# commands at once would each compile them (the build cache shares finished work only).
checks: fmt-check
	$(VET)
	$(STATICCHECK)

fmt-check:
	@out="$$(gofmt -l $$(git ls-files '*.go'))"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

## test: every test, unit and envtest, with the race detector off to keep CI short. While the control plane builds
## (the longest step of a cold run) and apt installs, the checks run and then every test that needs no control plane;
## then the envtest suites, the slowest first. Any step failing fails the run.
test:
	@$(MAKE) --no-print-directory -j4 --output-sync=target envtest-assets test-deps early-tests
	go test $(GO_TEST_FLAGS) $(ENVTEST_PACKAGES)

## early-tests: gofmt, go vet and staticcheck, then the tests that need no control plane (some need test-deps).
early-tests: checks test-deps
	go test $(GO_TEST_FLAGS) $$(go list ./... | grep -vxF "$$(go list $(ENVTEST_PACKAGES))")

# ENVTEST_PACKAGES are the packages whose tests start a control plane (test/testbed, envtest), slowest first;
# test/docs checks that the list is complete.
ENVTEST_PACKAGES := ./test/e2e ./test/process ./test/restart ./test/install ./test/acm ./test/admissionpolicy ./test/tools/devenv ./test/bench ./status

## unit: the tests that need neither a control plane nor a registry (promtool for config/prometheus).
unit: test-deps
	go test ./validators/... ./config/... ./webhook/... ./diagnose/...

## run: a local registry, control plane, webhook and checker with seeded failures; prints what to try; Ctrl-C stops it.
## RUN_FLAGS="-registry-port 5444" etc. (go run ./test/tools/devenv -h).
## Built, then run (not go run, which exits 1 on Ctrl-C whatever its program does): devenv exits 0 on Ctrl-C, while
## make itself, interrupted by the same Ctrl-C, re-raises it once its recipe has ended (exit status 130).
run: kubectl test-deps
	go build -o bin/devenv ./test/tools/devenv
	bin/devenv $(RUN_FLAGS)

PLATFORMS ?= linux/amd64,linux/arm64
LICENSES ?= NOASSERTION

## image: the container image without an engine (test/tools/imagebuild), as an OCI layout in dist/oci.
image:
	go run ./test/tools/imagebuild build -out dist/oci -platforms $(PLATFORMS) -licenses '$(LICENSES)'

## push: make image, then push it to $(REGISTRY)/ocl-guard:<git describe> with your docker or podman login.
## PUSH_FLAGS="-tag v1.0.0 -ca-file ca.pem" for another tag or a registry with a private CA.
ifneq ($(filter push,$(MAKECMDGOALS)),)
ifeq ($(REGISTRY),)
$(error usage: make push REGISTRY=<registry>/<namespace>, e.g. quay.io/acme)
endif
endif
push: image
	go run ./test/tools/imagebuild push -layout dist/oci -repository $(REGISTRY)/ocl-guard $(PUSH_FLAGS)

## bench: the Go benchmarks, then the CLI over many files (test/tools/benchcli: files/s and peak RSS of `check -f`).
## BENCH_CLI_FLAGS="-files 1000,5000 -runs 5" etc. (go run ./test/tools/benchcli -h).
bench: envtest-assets test-deps
	go test -run '^$$' -bench . -benchmem ./...
	go run ./test/tools/benchcli $(BENCH_CLI_FLAGS)

## bench-admission: what ocl-guard adds to an `oc apply`, through a real API server (test/tools/benchadmission).
## BENCH_ADMISSION_FLAGS="-requests 200 -clients 1,4,16" etc. (go run ./test/tools/benchadmission -h).
bench-admission: envtest-assets
	go run ./test/tools/benchadmission $(BENCH_ADMISSION_FLAGS)

clean:
	rm -rf bin/ocl-guard bin/kubectl-ocl_guard bin/devenv .run dist
