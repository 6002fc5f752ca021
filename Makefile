# fdattest — top-level entry points. Everything a fresh Debian 12 machine
# needs is installed by `make deps` (idempotent; runs apt-get only for
# packages that are missing).
SHELL := /bin/bash
JOBS ?= $(shell nproc)

# libyaml-dev: the OpenAPI contract test reads docs/openapi.yaml with it; iproute2: the
# README test brings loopback up in a network namespace of its own.
DEBIAN_PACKAGES := cmake g++ make pkg-config git \
  libseccomp-dev seccomp libabsl-dev nlohmann-json3-dev libcli11-dev libssl-dev \
  libgtest-dev libgmock-dev libbenchmark-dev \
  busybox-static bubblewrap hyperfine strace jq \
  clang-14 libclang-rt-14-dev llvm-14 \
  swtpm swtpm-tools tpm2-tools libtss2-dev openssl \
  jose libjose-dev xxd man-db \
  e2fsprogs mount \
  libcpp-httplib-dev libsqlite3-dev sqlite3 wrk curl libyaml-dev iproute2 libjemalloc-dev

.PHONY: all deps build build-asan test unit-test integration-test fuzz lint demo bench clean
FUZZ_SECONDS ?= 60

all: build

deps:
	@missing=""; \
	for p in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

build: deps
	cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
	cmake --build build -j$(JOBS)

build-asan: deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DFDATTEST_SANITIZE=ON -DFDATTEST_BUILD_BENCH=OFF
	cmake --build build-asan -j$(JOBS)

# Banned patterns; then the structure check (file sizes, citations, includes,
# layering), after its self-test shows it still catches each offence.
lint:
	tools/check_banned.sh
	tools/check_structure_test.sh
	tools/check_structure.sh

# Unit tests under ASan+UBSan; integration and hostile-workload tests against
# the hardened release binaries (the real kernel's seccomp, as root).
unit-test: build-asan
	cd build-asan && ctest -L unit --output-on-failure --timeout 300

integration-test: build
	cd build && ctest -LE unit --output-on-failure --timeout 300

# libFuzzer targets (clang-14, ASan+UBSan), FUZZ_SECONDS each.
fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run_fuzzers.sh build-fuzz

test: lint unit-test integration-test fuzz

demo: build
	examples/demo.sh build

bench: build
	bench/run_all.sh build

clean:
	rm -rf build build-asan build-fuzz
