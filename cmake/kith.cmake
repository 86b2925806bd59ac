# Helpers shared by every module's CMakeLists.txt.

# Warnings in our own code only (third-party headers are included as SYSTEM); errors with KITH_WERROR,
# which the presets turn on.
function(kith_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wno-deprecated-declarations
    -Wno-missing-field-initializers)  # designated initialisers leave the rest at their defaults on purpose
  if(KITH_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# kith_module(NAME SOURCES ... PUBLIC ... PRIVATE ...): a static library kith_<NAME> whose headers are
# included as "<module>/<file>.hpp" from src/. A dependency is PUBLIC only when the module's headers
# include its headers (so its include paths and definitions reach the module's users); everything else
# is PRIVATE. Static libraries still pass PRIVATE dependencies on to the final link.
function(kith_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC;PRIVATE;DEPS" ${ARGN})
  if(ARG_DEPS)
    message(FATAL_ERROR "kith_module(${name}): DEPS is gone; list what the module's headers include under "
                        "PUBLIC and the rest under PRIVATE (cmake/kith.cmake)")
  endif()
  add_library(kith_${name} STATIC ${ARG_SOURCES})
  target_include_directories(kith_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(kith_${name} PUBLIC ${ARG_PUBLIC} PRIVATE ${ARG_PRIVATE})
  kith_warnings(kith_${name})
endfunction()

# kith_unit_test(NAME SOURCES ... DEPS ...): one gtest binary per module, registered with ctest.
function(kith_unit_test name)
  if(NOT KITH_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  kith_warnings(${name})
  include(GoogleTest)
  gtest_discover_tests(${name} PROPERTIES LABELS unit DISCOVERY_TIMEOUT 60)
endfunction()
