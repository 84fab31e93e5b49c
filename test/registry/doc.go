// Package e2e tests the registry prober against the real registry (Debian's docker-registry, distribution 2.8)
// started by registrytest. Run it with: go test ./test/registry/... (add -bench . for the benchmarks).
package e2e
