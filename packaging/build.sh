#!/usr/bin/env bash
# Builds build/provmon_<version>-1_amd64.deb (npm run package:deb):
#   1. the BPF object (bpf/build.sh) and one standalone executable (bun build --compile) holding the CLI and the
#      drain thread's module (a second entrypoint: sensor/src/install-layout.ts finds it at run time);
#   2. a staged tree build/deb-root: the executable, the BPF object, the man page (help2man from --help), the
#      Elasticsearch assets, the configuration JSON Schema, provmon ui's prebuilt browser assets, the changelog;
#   3. nfpm (a pinned Go module, packaging/ensure-nfpm.sh installs it on first use) packs it per packaging/nfpm.yaml.
#   PROVMON_DEB_VERSION=0.1.0~rc1 packaging/build.sh    builds another version of the package from the same tree
# Needs Go (the Go toolchain on PATH or /usr/local/go), help2man, and what scripts/ensure.sh run installs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

die() { printf 'provmon package: error: %s\n' "$*" >&2; exit 1; }
say() { printf 'provmon package: %s\n' "$*" >&2; }

bun=node_modules/.bin/bun
[ -x "$bun" ] || die "Bun is missing: run bash scripts/ensure.sh run first"
command -v help2man >/dev/null || die "help2man not found (Debian: apt-get install -y help2man)"

# PROVMON_DEB_VERSION overrides the package version (the upgrade test builds an older one to upgrade from)
version=${PROVMON_DEB_VERSION:-$("$bun" -e 'console.log(require("./package.json").version)')}
export PROVMON_VERSION=$version

nfpm=$(bash packaging/ensure-nfpm.sh)

bash bpf/build.sh >&2 || die "building the BPF object failed"

stage=build/deb-root
rm -rf "$stage"
mkdir -p "$stage/usr/bin" "$stage/usr/lib/provmon/bpf/build" "$stage/usr/share/provmon/schema" \
  "$stage/usr/share/man/man1" "$stage/usr/share/doc/provmon"

# The workers (drain thread, local store index, offline analysis) are extra entrypoints so the executable carries them
# (install-layout.ts finds them).
"$bun" build --compile --minify-syntax sensor/src/cli/main.ts sensor/src/ebpf/drain-worker.ts sensor/src/output/local/index-worker.ts sensor/src/analyze/worker.ts \
  --outfile "$stage/usr/bin/provmon" >&2 || die "bun build --compile failed"

install -m 0644 bpf/build/provmon.bpf.o "$stage/usr/lib/provmon/bpf/build/provmon.bpf.o"
cp -r index-templates ingest-pipelines "$stage/usr/share/provmon/"
install -m 0644 schema/config.schema.json "$stage/usr/share/provmon/schema/"
# provmon ui's browser assets, built here: the installed executable has no esbuild binary and no plugin sources
"$bun" run packaging/prebuild-ui.ts "$stage/usr/share/provmon/ui" >&2 || die "building the provmon ui assets failed"
for optional in kibana-plugin/saved-objects kibana-plugin/rules; do
  [ -d "$optional" ] && cp -r "$optional" "$stage/usr/share/provmon/"
done
find "$stage/usr/share/provmon" -type d -exec chmod 0755 {} + -o -type f -exec chmod 0644 {} +

help2man --no-info --section 1 --name 'Elasticsearch-native security sensor and provenance analysis' \
  --version-string "$version" --include packaging/provmon.h2m "$stage/usr/bin/provmon" \
  | gzip -9n > "$stage/usr/share/man/man1/provmon.1.gz"

# lintian wants a changelog; this one is generated from the version (git history has the detail)
date=$(date -u -R -d "@${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}")
printf 'provmon (%s-1) unstable; urgency=medium\n\n  * Release %s.\n\n -- provmon maintainers <provmon@provmon.invalid>  %s\n' \
  "$version" "$version" "$date" | gzip -9n > "$stage/usr/share/doc/provmon/changelog.Debian.gz"

mkdir -p build
"$nfpm" pkg --packager deb --config packaging/nfpm.yaml --target "build/provmon_${version}-1_amd64.deb" >&2 \
  || die "nfpm failed"
echo "build/provmon_${version}-1_amd64.deb"
