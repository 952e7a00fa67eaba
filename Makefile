# slm.c — top-level commands. The build itself is CMake; this file wraps it.
#   make         build build/slm
#   make demo    install what is missing, run a quick training-cost study on this CPU, write its report
#   make check   install what is missing, run every test, then the tests again under ASan+UBSan
JOBS ?= $(shell nproc)
# Tests run one at a time: each already uses every core (OpenMP), and two
# OpenMP programs sharing the cores slow each other down many times over.
CTEST_FLAGS ?= --output-on-failure

.PHONY: all slm deps demo check test sanitize clean

all: slm

slm:
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build build -j $(JOBS)

deps:
	@sh scripts/deps.sh check

demo:
	@sh scripts/deps.sh demo
	@$(MAKE) --no-print-directory slm
	@sh scripts/demo.sh

test: slm
	@cd build && ctest $(CTEST_FLAGS)

sanitize:
	@cmake -S . -B build-san -DCMAKE_BUILD_TYPE=Debug -DSLM_SANITIZE=ON >/dev/null
	@cmake --build build-san -j $(JOBS)
	@cd build-san && ASAN_OPTIONS=detect_leaks=1:exitcode=23 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=23 \
		ctest $(CTEST_FLAGS) -LE slow

check: deps
	@$(MAKE) --no-print-directory test
	@$(MAKE) --no-print-directory sanitize
	@echo "slm: all tests passed (release and sanitizer builds)"

clean:
	rm -rf build build-san
