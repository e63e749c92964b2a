#!/usr/bin/env bash
# Installs or builds what a provmon command needs, idempotently; quick when everything is already there.
#   scripts/ensure.sh run    Debian packages for capture, npm dependencies, BPF objects
#   scripts/ensure.sh test   the above plus test tools (strace, tshark, a JDK 17, Maven) and the Elasticsearch test node
#   scripts/ensure.sh bench  same as test
#   scripts/ensure.sh package  the run packages plus help2man, lintian and systemd (systemd-analyze) for the .deb
#   scripts/ensure.sh es     npm dependencies, a JDK 17, Maven and the Elasticsearch test node
set -euo pipefail
mode=${1:-run}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

say() { printf 'provmon ensure: %s\n' "$*" >&2; }
die() { printf 'provmon ensure: error: %s\n' "$*" >&2; exit 1; }

run_pkgs=(clang llvm libbpf-dev libelf-dev zlib1g-dev libpcap-dev bpftool iproute2)
package_pkgs=(help2man lintian systemd)
test_pkgs=("${package_pkgs[@]}" strace tshark auditd sudo openjdk-17-jdk-headless maven unzip procps util-linux dnsmasq-base dnsutils iputils-ping curl gcc libc6-dev python3 chromium fonts-dejavu-core)
es_pkgs=(openjdk-17-jdk-headless maven unzip util-linux)

case "$mode" in
  run) pkgs=("${run_pkgs[@]}") ;;
  package) pkgs=("${run_pkgs[@]}" "${package_pkgs[@]}") ;;
  test|bench) pkgs=("${run_pkgs[@]}" "${test_pkgs[@]}") ;;
  es) pkgs=("${es_pkgs[@]}") ;;
  *) die "unknown mode '$mode' (expected run, package, test, bench or es)" ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    die "missing Debian packages: ${missing[*]}; install them as root: apt-get install -y ${missing[*]}"
  fi
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 || die "apt-get update failed; check the package sources"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 || die "apt-get install ${missing[*]} failed"
fi

# npm dependencies (Bun itself is one of them): reinstall only when the lockfile changed.
if [ ! -x node_modules/.bin/bun ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund >&2 || die "npm ci failed"
fi

if [ "$mode" != es ] && [ -f bpf/build.sh ]; then
  bash bpf/build.sh >&2 || die "building the BPF objects failed (see above)"
fi

if [ "$mode" = package ] || [ "$mode" = test ]; then
  bash packaging/ensure-nfpm.sh >/dev/null || die "installing nfpm failed (see above)"
fi

if [ "$mode" = test ] || [ "$mode" = bench ] || [ "$mode" = es ]; then
  node_modules/.bin/bun run scripts/es-node/cli.ts prepare >&2 || die "preparing the Elasticsearch test node failed (see above)"
fi
