#!/bin/sh
# generate.sh regenerates the Go code of the rootfsd.v1 API from its proto,
# byte for byte, with pinned generators: protoc from Debian's
# protobuf-compiler, protoc-gen-go and protoc-gen-connect-go at the exact
# module versions below, installed into the repository's bin/ directory.
# Run through `make generate` (go generate ./...) from anywhere. With an
# argument, writes into that directory instead (the freshness test does).
set -eu

PROTOC_VERSION="libprotoc 3.21.12"
PROTOC_GEN_GO="google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.11"
PROTOC_GEN_CONNECT_GO="connectrpc.com/connect/cmd/protoc-gen-connect-go@v1.21.1"

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
bin="$root/bin"
mkdir -p "$bin"

got=$(protoc --version 2>/dev/null || true)
if [ "$got" != "$PROTOC_VERSION" ]; then
	echo "generate: need protoc \"$PROTOC_VERSION\" (Debian bookworm's protobuf-compiler), found \"$got\": apt-get install protobuf-compiler" >&2
	exit 1
fi

# install MOD@VERSION NAME: go install into bin/ unless that exact version
# is already there (a stamp file records what was installed).
install() {
	stamp="$bin/.$2.version"
	if [ -x "$bin/$2" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$1" ]; then
		return
	fi
	GOBIN="$bin" GOFLAGS= go install "$1"
	echo "$1" >"$stamp"
}
install "$PROTOC_GEN_GO" protoc-gen-go
install "$PROTOC_GEN_CONNECT_GO" protoc-gen-connect-go

out=$(cd "${1:-$here}" && pwd)
cd "$here"
protoc -I . \
	--plugin=protoc-gen-go="$bin/protoc-gen-go" \
	--plugin=protoc-gen-connect-go="$bin/protoc-gen-connect-go" \
	--go_out="$out" --go_opt=paths=source_relative \
	--connect-go_out="$out" --connect-go_opt=paths=source_relative \
	rootfsd/v1/rootfsd.proto
