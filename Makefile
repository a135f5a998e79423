# Tern: set-up, build, run and test. Every target first installs the Debian packages it needs and
# are missing (scripts/install-deps.sh GROUP; idempotent, instant when all are there).
#   make run    build and start `tern serve` on the embedded defaults (127.0.0.1:2525, ./var)
#   make test   format check, unit tests, the same under ASan+UBSan, integration tests with peers
#   make fuzz   build the libFuzzer targets with clang and run each for FUZZ_SECONDS
#   make deb    build the Debian package of the build's binary into $(BUILD)/deb (docs/packaging.md)
#   make bench  benchmarks against Postfix and an smtp-sink ceiling on this machine (bench/): local
#               delivery with a DATA-end -> 250 latency probe, relaying, then the memory per idle
#               connection (make bench-idle runs that one alone), then the cost of the policy
#               checks and header/body rules (make bench-policy), and Tern and Postfix behind the
#               same rspamd milter (make bench-milter), the sending API against SMTP into Tern
#               and Postfix (make bench-api), then the metrics' cost per message
#               (make bench-micro, Google Benchmark, no daemon)

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc)
FUZZ_SECONDS ?= 60
# The libFuzzer targets (tests/fuzz/NAME_fuzz.cpp): SMTP, mail authentication, policy rules,
# header/body rule files, milter responses, Redis replies (RESP), SRS addresses, address lists and
# local submissions, maildrop files, the sending API's requests, bounce rules and replies,
# suppression list requests, reports that come back (DSN, ARF).
FUZZ_TARGETS ?= command data_decoder limits text_scan header_splitter tls_required spf_record spf_macro dkim_signature \
	dkim_key_record dkim_canonical dmarc_record auth_results arc_set policy_rules content_rules milter_response resp srs \
	address_list maildrop lmtp dashboard_request url message_request bounce_rules suppression_request feedback_report
CONFIG     ?=
PYTEST     := /usr/bin/python3 -m pytest
# The symbolizer of clang-19's version (package llvm-19), so a fuzzer's crash shows names and lines.
LLVM_SYMBOLIZER ?= /usr/lib/llvm-19/bin/llvm-symbolizer
INSTALL    := ./scripts/install-deps.sh

.PHONY: all deps deps-format deps-test deps-fuzz deps-bench deps-deb build build-asan run test \
	unit unit-asan integration fuzz bench bench-relay bench-idle bench-policy bench-milter \
	bench-micro bench-api deb format clean

all: build

# What each purpose needs (the lists are in scripts/install-deps.sh). Test and bench peers are
# installed without ever running as system services.
deps:
	@$(INSTALL) run
deps-format:
	@$(INSTALL) format
deps-test:
	@$(INSTALL) test
deps-fuzz:
	@$(INSTALL) fuzz
deps-bench:
	@$(INSTALL) bench
deps-deb:
	@$(INSTALL) deb

$(BUILD)/build.ninja: | deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTERN_WERROR=ON

$(ASAN_BUILD)/build.ninja: | deps
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

# TERN_REQUIRE_BROWSER: the dashboard's browser test fails, rather than skips, when Chromium or
# tests/browser's Node packages are missing (deps-test installs both).
integration: deps-test build build-asan
	TERN_BIN=$(CURDIR)/$(BUILD)/tern TERN_ASAN_BIN=$(CURDIR)/$(ASAN_BUILD)/tern TERN_REQUIRE_BROWSER=1 \
		$(PYTEST) -q -rs -p no:cacheprovider tests/integration

test: deps deps-test format unit unit-asan integration

$(FUZZ_BUILD)/build.ninja: | deps deps-fuzz
	cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTERN_FUZZ=ON \
		-DCMAKE_CXX_COMPILER=clang++-19 -DTERN_WERROR=OFF

fuzz: deps deps-fuzz $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD) -j $(JOBS) $(addprefix fuzz_,$(FUZZ_TARGETS))
	for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_BUILD)/corpus/$$t; \
		ASAN_SYMBOLIZER_PATH=$(LLVM_SYMBOLIZER) ./$(FUZZ_BUILD)/tests/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			$(FUZZ_BUILD)/corpus/$$t tests/fuzz/corpus/$$t || exit 1; \
	done

# Each run.sh times Tern, Postfix and the smtp-sink ceiling, then probes their DATA-end -> 250
# latency; each relay.py times Tern, Postfix and the relay ceiling (see bench/README.md).
bench: deps-bench build
	./bench/run.sh
	BENCH_MAILAUTH=verify ./bench/run.sh
	/usr/bin/python3 bench/relay.py
	BENCH_DKIM=1 /usr/bin/python3 bench/relay.py
	/usr/bin/python3 bench/idle_memory.py
	/usr/bin/python3 bench/policy.py
	/usr/bin/python3 bench/milter.py
	/usr/bin/python3 bench/api.py
	./bench/micro/run.sh

bench-relay: deps-bench build
	/usr/bin/python3 bench/relay.py

# What the spam defences cost: the same Tern with no policy, with DNS lists, greylisting and rate
# limits, and with header and body rules besides (needs neither root nor Postfix's daemon).
bench-policy: deps-bench build
	/usr/bin/python3 bench/policy.py

# Tern and Postfix behind the same rspamd as a milter (both bounded by rspamd).
bench-milter: deps-bench build
	/usr/bin/python3 bench/milter.py

# The sending API: 100,000 recipients in templated requests, against SMTP into Tern and Postfix.
bench-api: deps-bench build
	/usr/bin/python3 bench/api.py

# Memory per idle connection after EHLO (issue 14); the script needs neither root nor Postfix,
# only python3, which the bench group installs.
bench-idle: deps-bench build
	/usr/bin/python3 bench/idle_memory.py

# Micro-benchmarks of hot-path components (the metrics' cost per message), no daemon.
bench-micro: deps-bench build
	./bench/micro/run.sh

# The package of the binary just built: $(BUILD)/deb/tern_VERSION_ARCH.deb (docs/packaging.md).
deb: deps-deb build
	TERN_BIN=$(CURDIR)/$(BUILD)/tern ./packaging/deb/build-deb.sh $(BUILD)/deb

format: deps-format
	clang-format --dry-run --Werror $$(git ls-files '*.cpp' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
