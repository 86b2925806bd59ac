# Sanitizer and fuzzing instrumentation for the whole build (KITH_SANITIZE, KITH_FUZZ).
# See tests/sanitizers/README.md for how the tsan and asan presets run the tests.

if(KITH_FUZZ AND KITH_SANITIZE)
  message(FATAL_ERROR "KITH_FUZZ already builds with ASan and UBSan: leave KITH_SANITIZE empty")
endif()

# UBSan's vptr check (part of -fsanitize=undefined in GCC and clang) looks up the typeinfo of every
# polymorphic class a checked call touches. Debian's libtorrent is built with hidden visibility and
# does not export the typeinfo of its internal classes (`typeinfo for libtorrent::peer_connection`
# is undefined at link time), so translation units that see libtorrent's headers cannot have it.
# Every other translation unit keeps the check.
function(kith_no_vptr_check_for_libtorrent)
  set_property(TARGET PkgConfig::LIBTORRENT APPEND PROPERTY INTERFACE_COMPILE_OPTIONS -fno-sanitize=vptr)
endfunction()

if(KITH_FUZZ)
  # Instrument all of kith's code for coverage and sanitizers, not only the fuzz entry points.
  # -fno-sanitize=function: clang 14 cannot combine it with coroutines (the api module's server).
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize=function)
  add_link_options(-fsanitize=address,undefined)
  kith_no_vptr_check_for_libtorrent()
elseif(KITH_SANITIZE STREQUAL "thread")
  # -Wno-tsan: GCC warns that TSan ignores std::atomic_thread_fence, which Boost.Asio's std_fenced_block
  # issues after every handler. Asio's queues are handed over under a mutex, which TSan does see, so
  # the fence adds nothing TSan needs; with -Werror the warning would stop every Asio user.
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer -Wno-tsan)
  add_link_options(-fsanitize=thread)
elseif(KITH_SANITIZE STREQUAL "address")
  # -fno-sanitize-recover: undefined behaviour aborts the process (a test fails) instead of printing a
  # line that nobody reads in a passing test's output.
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
  kith_no_vptr_check_for_libtorrent()
elseif(KITH_SANITIZE)
  message(FATAL_ERROR "KITH_SANITIZE must be empty, thread or address (not ${KITH_SANITIZE})")
endif()
