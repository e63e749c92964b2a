#!/usr/bin/env bash
# Installs nfpm (the .deb packager) at the pinned version with `go install` into $(go env GOPATH)/bin when it is not
# there yet, and prints its path. Called by packaging/build.sh and by scripts/ensure.sh package|test.
set -euo pipefail
NFPM_VERSION=v2.48.0
die() { printf 'provmon package: error: %s\n' "$*" >&2; exit 1; }

PATH=$PATH:/usr/local/go/bin
command -v go >/dev/null || die "Go not found: nfpm is installed with 'go install' from the Go module proxy (Debian: apt-get install -y golang-go)"
gobin=$(go env GOPATH)/bin
nfpm=$gobin/nfpm
# `go version -m` names the module version a binary was built from (nfpm --version says "dev" for go install)
if ! { [ -x "$nfpm" ] && go version -m "$nfpm" 2>/dev/null | grep -Eq "^\s+mod\s+github.com/goreleaser/nfpm/v2\s+$NFPM_VERSION\s"; }; then
  printf 'provmon package: installing nfpm %s with go install (first time only, a few minutes)\n' "$NFPM_VERSION" >&2
  GOBIN=$gobin go install "github.com/goreleaser/nfpm/v2/cmd/nfpm@$NFPM_VERSION" >&2 || die "go install nfpm@$NFPM_VERSION failed"
fi
echo "$nfpm"
