# slm.c — top-level commands. The build itself is CMake; this file wraps it.
#   make         build build/slm
#   make demo    install what is missing, run a quick training-cost study on this CPU, write its report
#   make check   install what is missing, check formatting and layers, run every test, then the tests again under ASan+UBSan,
#                then every fuzz target for a few seconds
#   make format-check  every tracked C/CUDA/C++ file formatted as .clang-format says (scripts/check_format.sh)
#   make layer-check   every include of src/ is of its own layer or a lower one (scripts/check_layers.sh)
#   make fuzz FUZZ_SECONDS=N   run every fuzz target of tests/fuzz for N seconds (clang; docs/fuzzing.md)
#   make fuzz-smoke    every fuzz target for a few seconds (part of make check)
#   make gpu-deps                      download .debs for a GPU machine without internet (docs/gpu.md)
#   make gpu-check GPU_CHECK=quick     on a GPU machine: CUDA build, GPU tests, benchmarks beside PyTorch
JOBS ?= $(shell nproc)
# Tests run one at a time: each already uses every core (OpenMP), and two
# OpenMP programs sharing the cores slow each other down many times over.
CTEST_FLAGS ?= --output-on-failure

# gpu-check's part: quick | full-a | full-b (each within 10 minutes on one H100);
# results go to OUT_DIR (default bench/results/<date>-<device>-gpu-check).
GPU_CHECK ?= quick
OUT_DIR ?=

# make fuzz: seconds per target; make fuzz-smoke (in make check): seconds per target, one fixed seed.
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 3

.PHONY: all slm deps demo check format-check layer-check test sanitize fuzz fuzz-smoke clean gpu-deps gpu-check

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

fuzz:
	@JOBS=$(JOBS) sh scripts/fuzz.sh $(FUZZ_SECONDS)

fuzz-smoke:
	@JOBS=$(JOBS) FUZZ_SEED=1 sh scripts/fuzz.sh $(FUZZ_SMOKE_SECONDS)

format-check:
	@sh scripts/check_format.sh

layer-check:
	@sh scripts/check_layers.sh

check: deps
	@$(MAKE) --no-print-directory format-check
	@$(MAKE) --no-print-directory layer-check
	@$(MAKE) --no-print-directory test
	@$(MAKE) --no-print-directory sanitize
	@$(MAKE) --no-print-directory fuzz-smoke
	@echo "slm: all tests passed (release and sanitizer builds, fuzz smoke)"

gpu-deps:
	@sh scripts/gpu-deps.sh

gpu-check:
	@JOBS=$(JOBS) OUT_DIR=$(OUT_DIR) sh scripts/gpu-check.sh $(GPU_CHECK)

clean:
	rm -rf build build-san build-gpu build-fuzz
