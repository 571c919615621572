# rootfsd — build, test, benchmark.
#
#   make demo   installs what is missing, builds, and builds a real image rootfs
#   make test   runs the hermetic suite, then the real-mirror suite
#
# Mirrors are never written here: rootfsd takes ROOTFSD_MIRROR /
# ROOTFSD_SECURITY_MIRROR or discovers them from the host's apt sources and
# debootstrap's scripts.

GO        ?= go
TAGS      ?= containers_image_openpgp exclude_graphdriver_btrfs
BIN       ?= bin/rootfsd
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
GOFLAGS   += -tags=$(subst $(space),$(comma),$(TAGS))
LDFLAGS   := -X main.version=$(VERSION)
FUZZTIME  ?= 20s
DEMO_DIR  ?= out/demo
# System packages the tests and the demo use (Debian names).
SYSPKGS   ?= apt debootstrap mmdebstrap zstd xz-utils curl ca-certificates gcc pkg-config uidmap hyperfine \
             podman skopeo runc fuse-overlayfs docker-registry protobuf-compiler python3-jsonschema

comma := ,
empty :=
space := $(empty) $(empty)
export GOFLAGS

.PHONY: all build deps test test-unit test-mirror e2e bench demo fuzz generate vet fmt clean

all: build

build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/rootfsd

# deps installs missing system packages with apt-get when run as root, and
# otherwise names what is missing.
deps:
	@missing=""; for p in $(SYSPKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then echo "deps: all system packages present"; \
	elif [ "$$(id -u)" = 0 ]; then echo "deps: installing$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else echo "deps: missing system packages:$$missing — run as root: apt-get install$$missing" >&2; exit 1; fi

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting" >&2; exit 1; }

# test runs both suites. The real-mirror suite skips loudly when no mirror
# answers; everything else must pass.
test: deps vet test-unit test-mirror

test-unit:
	@sh api/tools.sh || echo "tools: grpcurl could not be installed; the tests that use it skip" >&2
	GO=$(GO) ./scripts/gotest.sh out/test-unit.log -count=1 -timeout 15m ./...

test-mirror: build
	ROOTFSD_BIN=$(CURDIR)/$(BIN) GO=$(GO) ./scripts/gotest.sh out/test-mirror.log -count=1 -timeout 30m -tags=$(subst $(space),$(comma),$(TAGS) mirror) -run 'Mirror' ./...

e2e: test-mirror

bench: build
	./scripts/bench.sh $(BIN)
	ROOTFSD_BENCH=1 $(GO) test -count=1 -v -run 'TestBenchRegistryCache$$' ./cmd/rootfsd/ | grep '^registry cache'

# demo builds a real image from the real archive: resolve, lock, then the
# root filesystem as a tar and as an OCI archive (no root, no user
# namespace needed for those), with its SBOMs.
demo: deps build
	@mkdir -p $(DEMO_DIR)
	$(BIN) resolve --distro ubuntu:24.04 --pkgs ca-certificates
	$(BIN) lock --distro ubuntu:24.04 --pkgs ca-certificates -o $(DEMO_DIR)/rootfs.lock
	$(BIN) build --lock $(DEMO_DIR)/rootfs.lock --output tar:$(DEMO_DIR)/rootfs.tar --output oci-archive:$(DEMO_DIR)/image.tar
	@ls -l $(DEMO_DIR)

fuzz:
	./scripts/fuzz.sh $(FUZZTIME)

generate:
	$(GO) generate ./...

clean:
	rm -rf bin out
