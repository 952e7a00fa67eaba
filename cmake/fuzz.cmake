# fuzz.cmake — the fuzz targets of tests/fuzz (docs/fuzzing.md): one
# fuzz_<reader>.c per reader of a file slm reads, each defining
# LLVMFuzzerTestOneInput.
# - In every build each target is linked with tests/fuzz/replay.c and runs
#   as a test over its seed corpus (tests/fuzz/corpus/<reader>) and its
#   regression inputs (tests/fuzz/regress/<reader>): the inputs that once
#   crashed a reader stay checked, under ASan+UBSan in make sanitize.
# - With -DSLM_FUZZ=ON (clang; scripts/fuzz.sh makes build-fuzz) each is
#   linked with libFuzzer instead and the library is instrumented for it;
#   only the library and the targets are built.
set(SLM_FUZZ_DIR ${CMAKE_SOURCE_DIR}/tests/fuzz)
add_library(slmfuzz STATIC ${SLM_FUZZ_DIR}/util.c ${SLM_FUZZ_DIR}/ckpt_load.c ${CMAKE_SOURCE_DIR}/tests/testutil.c)
target_include_directories(slmfuzz PUBLIC ${SLM_FUZZ_DIR} ${CMAKE_SOURCE_DIR}/tests)
target_link_libraries(slmfuzz PUBLIC slmlib)
file(GLOB SLM_FUZZ_TARGETS CONFIGURE_DEPENDS ${SLM_FUZZ_DIR}/fuzz_*.c)
foreach(src ${SLM_FUZZ_TARGETS})
  get_filename_component(name ${src} NAME_WE)
  string(REGEX REPLACE "^fuzz_" "" reader ${name})
  if(SLM_FUZZ)
    add_executable(${name} ${src})
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  else()
    add_executable(${name} ${src} ${SLM_FUZZ_DIR}/replay.c)
    add_test(NAME ${name} COMMAND ${name} ${SLM_FUZZ_DIR}/corpus/${reader} ${SLM_FUZZ_DIR}/regress/${reader}
      WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
    set_tests_properties(${name} PROPERTIES LABELS fuzz ENVIRONMENT "OMP_NUM_THREADS=1;SLM_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
  endif()
  target_link_libraries(${name} PRIVATE slmfuzz)
endforeach()
