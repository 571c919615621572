#!/bin/sh
# tools.sh installs the pinned third-party client used by the tests to
# check that rootfsd's socket is a real gRPC server: grpcurl, into the
# repository's bin/ directory. A no-op when that version is there.
set -eu
GRPCURL="github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.3"
bin="$(cd "$(dirname "$0")/.." && pwd)/bin"
mkdir -p "$bin"
if [ -x "$bin/grpcurl" ] && [ "$(cat "$bin/.grpcurl.version" 2>/dev/null)" = "$GRPCURL" ]; then
	exit 0
fi
GOBIN="$bin" GOFLAGS= go install "$GRPCURL"
echo "$GRPCURL" >"$bin/.grpcurl.version"
