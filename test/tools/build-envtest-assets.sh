#!/usr/bin/env bash
# Builds envtest's control plane (kube-apiserver, etcd) from Go modules; with the argument "kubectl", kubectl too.
#
# setup-envtest downloads prebuilt binaries from the internet, which CI and developer machines here cannot reach;
# the Go module proxy is reachable, so the same binaries are compiled from k8s.io/kubernetes and etcd's server module.
# The tests run only kube-apiserver and etcd (envtest starts no kubectl), so `make test` builds only those; kubectl
# (some 200 more packages and a 60 MB link) is for the commands `make run` prints.
# Prints the assets directory (suitable for KUBEBUILDER_ASSETS) on stdout; everything else goes to stderr.
# A second run with the binaries present does nothing.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-1.36.3}"
ETCD_VERSION="${ETCD_VERSION:-3.6.8}"
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
assets_dir="${ENVTEST_ASSETS_DIR:-$repo_root/bin/k8s/$K8S_VERSION}"
scratch_dir="$repo_root/bin/.envtest-build"

log() { echo "build-envtest-assets: $*" >&2; }

with_kubectl=false
case "${1:-}" in
  "") ;;
  kubectl) with_kubectl=true ;;
  *) log "unknown argument '$1': give none (kube-apiserver and etcd) or 'kubectl' (kubectl as well)"; exit 2 ;;
esac
have_kubectl() { ! $with_kubectl || [[ -x "$assets_dir/kubectl" ]]; }

if [[ -x "$assets_dir/kube-apiserver" && -x "$assets_dir/etcd" ]] && have_kubectl; then
  log "up to date in $assets_dir"
  echo "$assets_dir"
  exit 0
fi
mkdir -p "$assets_dir" "$scratch_dir"
export CGO_ENABLED=0 GOFLAGS=-mod=mod GOWORK=off

build_etcd() {
  [[ -x "$assets_dir/etcd" ]] && return 0
  log "building etcd v$ETCD_VERSION"
  local dir="$scratch_dir/etcd"
  mkdir -p "$dir"
  # `go install go.etcd.io/etcd/server/v3@...` is refused because etcd's go.mod carries replace directives,
  # so a throwaway main module calls etcdmain.Main instead.
  cat >"$dir/go.mod" <<EOF
module ocl-guard.local/envtest-etcd

go 1.26

require go.etcd.io/etcd/server/v3 v$ETCD_VERSION
EOF
  cat >"$dir/main.go" <<'EOF'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
  (cd "$dir" && go mod tidy >&2 && go build -trimpath -gcflags=all=-dwarf=false -ldflags "-s -w" -o "$assets_dir/etcd" .)
}

build_kubernetes() {
  local commands=() dir="$scratch_dir/kubernetes-$K8S_VERSION" gomod staging_version
  [[ -x "$assets_dir/kube-apiserver" ]] || commands+=(k8s.io/kubernetes/cmd/kube-apiserver)
  have_kubectl || commands+=(k8s.io/kubernetes/cmd/kubectl)
  [[ ${#commands[@]} -eq 0 ]] && return 0
  log "building ${commands[*]##*/} v$K8S_VERSION"
  mkdir -p "$dir"
  gomod="$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
  [[ -f "$gomod" ]] || { log "could not locate go.mod of k8s.io/kubernetes@v$K8S_VERSION"; return 1; }
  staging_version="v0.${K8S_VERSION#1.}"

  # k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with ./staging/...; those replaces
  # do not apply to a dependency, so point each one at its published tag instead.
  {
    printf 'module ocl-guard.local/envtest-kubernetes\n\ngo 1.26\n\nrequire k8s.io/kubernetes v%s\n\n' "$K8S_VERSION"
    printf 'tool (\n'
    printf '\t%s\n' "${commands[@]}"
    printf ')\n\nreplace (\n'
    comm -12 \
      <(awk '$2 == "=>" && $3 ~ /^\.\/staging\// {print $1}' "$gomod" | sort -u) \
      <(awk '$1 ~ /^k8s\.io\// && $2 == "v0.0.0" {print $1} $1 == "require" && $2 ~ /^k8s\.io\// && $3 == "v0.0.0" {print $2}' "$gomod" | sort -u) |
      while read -r module; do printf '\t%s => %s %s\n' "$module" "$module" "$staging_version"; done
    printf ')\n'
  } >"$dir/go.mod"

  (cd "$dir" && go mod tidy >&2)
  check_pins "$gomod" "$dir"

  local minor ldflags
  minor="$(cut -d. -f2 <<<"$K8S_VERSION")"
  ldflags="-s -w -X k8s.io/component-base/version.gitVersion=v$K8S_VERSION"
  ldflags+=" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
  ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=v$K8S_VERSION"
  # -dwarf=false: the linker drops DWARF anyway (-w), so the compiler need not make it (about 6% less CPU).
  (cd "$dir" && go build -trimpath -gcflags=all=-dwarf=false -ldflags "$ldflags" -o "$assets_dir/" "${commands[@]}")
}

# Fails when the scratch module selected a different version of a dependency than k8s.io/kubernetes pins,
# since a silently upgraded dependency would make this apiserver differ from the released one.
check_pins() {
  local upstream_gomod="$1" dir="$2" mismatches
  mismatches="$(cd "$dir" && go list -m -f '{{.Path}} {{.Version}}' all | awk '
    NR == FNR { if ($1 ~ /\./ && $2 ~ /^v/ && $2 != "v0.0.0") pinned[$1] = $2; next }
    ($1 in pinned) && pinned[$1] != $2 { print $1 ": kubernetes pins " pinned[$1] ", selected " $2 }
  ' <(sed -e 's/^require //' "$upstream_gomod") -)"
  if [[ -n "$mismatches" ]]; then
    log "dependency versions differ from k8s.io/kubernetes v$K8S_VERSION:"
    echo "$mismatches" >&2
    return 1
  fi
}

# etcd's build (mostly compiling) runs while kube-apiserver's modules download. Should the kube-apiserver build
# fail (set -e ends the script), the EXIT trap still waits for etcd's, so that no go build outlives the script.
build_etcd &
etcd_build=$!
trap 'wait' EXIT
build_kubernetes
wait "$etcd_build" || { log "building etcd v$ETCD_VERSION failed"; exit 1; }
log "built into $assets_dir"
echo "$assets_dir"
