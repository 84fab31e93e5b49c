#!/usr/bin/env bash
# Installs what the registry tests run for real: Debian's docker-registry (distribution 2.8). Certificates and
# htpasswd entries are made in Go by the tests themselves.
set -euo pipefail
missing=()
command -v docker-registry >/dev/null || missing+=(docker-registry)
[[ ${#missing[@]} -eq 0 ]] && exit 0
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
echo "install-test-deps: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
