# The fuzz targets as CTest cases of the main build (included from the top
# CMakeLists.txt). fuzz/ is a project of its own, compiled with clang and
# the sanitizers into ${CMAKE_BINARY_DIR}/fuzz by the fuzz.build fixture;
# fuzz.seeds makes the seed corpora with the myst just built; then each
# target runs for MYST_FUZZ_SECONDS (bench/fuzz.sh runs longer), and every
# input kept under fuzz/regressions/<target>/ is replayed once.
option(MYST_FUZZ "Build the libFuzzer targets (clang) and run them under CTest" ON)
if(NOT MYST_FUZZ)
    return()
endif()
find_program(MYST_FUZZ_CLANGXX NAMES clang++ clang++-14)
find_program(MYST_FUZZ_CLANG NAMES clang clang-14)
if(NOT MYST_FUZZ_CLANGXX OR NOT MYST_FUZZ_CLANG)
    message(FATAL_ERROR "clang++ not found: the fuzz tests need clang and libFuzzer (Debian: "
                        "clang libclang-rt-14-dev; ./setup.sh installs them), or -DMYST_FUZZ=OFF")
endif()
set(MYST_FUZZ_SECONDS 15 CACHE STRING "How long CTest runs each fuzz target")

set(fuzz_source ${PROJECT_SOURCE_DIR}/fuzz)
set(fuzz_build ${CMAKE_BINARY_DIR}/fuzz)
set(fuzz_seeds ${CMAKE_BINARY_DIR}/fuzz-seeds)
set(fuzz_runs ${CMAKE_BINARY_DIR}/fuzz-runs)

add_test(NAME fuzz.build
         COMMAND bash ${fuzz_source}/build.sh ${fuzz_build} ${MYST_FUZZ_CLANG} ${MYST_FUZZ_CLANGXX})
set_tests_properties(fuzz.build PROPERTIES FIXTURES_SETUP fuzz_build TIMEOUT 900)
add_test(NAME fuzz.seeds
         COMMAND bash ${fuzz_source}/make_seeds.sh $<TARGET_FILE:myst>
                 ${CMAKE_BINARY_DIR}/tests/apps/bin ${fuzz_seeds})
set_tests_properties(fuzz.seeds PROPERTIES FIXTURES_SETUP fuzz_seeds TIMEOUT 120)

foreach(target cpio ext2 verity fssig luks1 elf app_config mount_options)
    add_test(NAME fuzz.${target}
             COMMAND bash ${fuzz_source}/run_fuzzer.sh ${fuzz_build}/fuzz_${target}
                     ${MYST_FUZZ_SECONDS} ${fuzz_seeds}/${target} ${fuzz_runs}/${target})
    set_tests_properties(fuzz.${target} PROPERTIES FIXTURES_REQUIRED "fuzz_build;fuzz_seeds"
                                                   TIMEOUT 300)
    if(IS_DIRECTORY ${fuzz_source}/regressions/${target})
        # Given files rather than directories, libFuzzer runs each once; a
        # hang found before fails after a minute, as in run_fuzzer.sh.
        add_test(NAME fuzz.${target}.regressions
                 COMMAND bash -c "exec \"$0\" -timeout=60 \"$1\"/*" ${fuzz_build}/fuzz_${target}
                         ${fuzz_source}/regressions/${target})
        set_tests_properties(fuzz.${target}.regressions PROPERTIES
                             FIXTURES_REQUIRED fuzz_build TIMEOUT 120)
    endif()
endforeach()
