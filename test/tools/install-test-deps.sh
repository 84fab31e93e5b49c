#!/usr/bin/env bash
# Installs what the tests run for real: Debian's docker-registry (distribution 2.8) for the registry tests, and
# Debian's prometheus package for promtool (the alert rule tests in config/prometheus; about 19 MB, ~30 s with the
# apt-get update). Certificates and htpasswd entries are made in Go by the tests themselves. Also Debian's CA
# bundle, which the image build puts into the image.
set -euo pipefail
missing=()
command -v docker-registry >/dev/null || missing+=(docker-registry)
command -v promtool >/dev/null || missing+=(prometheus)
[[ -f /etc/ssl/certs/ca-certificates.crt ]] || missing+=(ca-certificates)
[[ ${#missing[@]} -eq 0 ]] && exit 0
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
echo "install-test-deps: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
