# Tern: set-up, build, run and test. Every target installs what is missing first (idempotent).
#   make run    build and start `tern serve` on the embedded defaults (127.0.0.1:2525, ./var)
#   make test   unit tests, the same under ASan+UBSan, then integration tests with real peers
#   make fuzz   build the libFuzzer targets with clang and run each for FUZZ_SECONDS
#   make bench  benchmarks against Postfix on this machine (bench/): local delivery, then relaying

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc)
FUZZ_SECONDS ?= 60
CONFIG     ?=
PYTEST     := /usr/bin/python3 -m pytest

.PHONY: all deps build build-asan run test unit unit-asan integration fuzz bench bench-relay format clean

all: build

deps:
	@./scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTERN_WERROR=ON

$(ASAN_BUILD)/build.ninja:
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DTERN_WERROR=ON -DTERN_SANITIZE=ON

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD) -j $(JOBS)

build-asan: deps $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD) -j $(JOBS)

run: build
	./$(BUILD)/tern serve $(if $(CONFIG),--config $(CONFIG))

unit: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

unit-asan: build-asan
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		ctest --output-on-failure -j $(JOBS)

integration: build build-asan
	TERN_BIN=$(CURDIR)/$(BUILD)/tern TERN_ASAN_BIN=$(CURDIR)/$(ASAN_BUILD)/tern \
		$(PYTEST) -q -p no:cacheprovider tests/integration

test: format unit unit-asan integration

$(FUZZ_BUILD)/build.ninja:
	cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTERN_FUZZ=ON \
		-DCMAKE_CXX_COMPILER=clang++-19 -DTERN_WERROR=OFF

fuzz: deps $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD) -j $(JOBS) fuzz_command fuzz_data_decoder fuzz_limits fuzz_arc_set
	for t in command data_decoder limits arc_set; do \
		mkdir -p $(FUZZ_BUILD)/corpus/$$t; \
		./$(FUZZ_BUILD)/tests/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			$(FUZZ_BUILD)/corpus/$$t tests/fuzz/corpus/$$t || exit 1; \
	done

bench: build
	./bench/run.sh
	/usr/bin/python3 bench/relay.py

bench-relay: build
	/usr/bin/python3 bench/relay.py

format:
	clang-format --dry-run --Werror $$(git ls-files '*.cpp' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
