# Warnings and sanitizers as INTERFACE targets that our own targets link (STYLE.md "Build").
add_library(cardsmith_warnings INTERFACE)
target_compile_options(cardsmith_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
  $<$<BOOL:${CARDSMITH_WERROR}>:-Werror>
  # GCC 12 reports impossible overlaps in inlined std::string concatenation at -O3
  # (GCC bug 105329, fixed in 13): a false positive, so it is not an error here.
  $<$<AND:$<CXX_COMPILER_ID:GNU>,$<VERSION_LESS:$<CXX_COMPILER_VERSION>,13>>:-Wno-restrict>)

add_library(cardsmith_sanitizers INTERFACE)
if(CARDSMITH_FUZZ)
  # libFuzzer (tests/fuzz): every library gets the fuzzer's coverage instrumentation and
  # ASan + UBSan; only the fuzz executables link the fuzzer's main (-fsanitize=fuzzer).
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "CARDSMITH_FUZZ needs clang (cmake --preset fuzz)")
  endif()
  # -fsanitize=function (indirect calls through a wrongly typed pointer; part of clang's
  # "undefined", absent from GCC's) makes clang 14's backend fail on our coroutines with
  # "Cannot represent a difference across sections" (llvm-project#49689): it is left out.
  target_compile_options(cardsmith_sanitizers INTERFACE
    -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize=function
    -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(cardsmith_sanitizers INTERFACE -fsanitize=address,undefined
                      -fno-sanitize=function)
  # Boost's assertions stay on, through a handler that lets one known false assertion of
  # Beast's parser pass (tests/fuzz/boost_assert.cpp).
  target_compile_definitions(cardsmith_sanitizers INTERFACE BOOST_ENABLE_ASSERT_HANDLER)
  target_link_libraries(cardsmith_sanitizers INTERFACE cardsmith_boost_assert)
elseif(CARDSMITH_SANITIZE)
  target_compile_options(cardsmith_sanitizers INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(cardsmith_sanitizers INTERFACE -fsanitize=address,undefined)
endif()

add_library(cardsmith_options INTERFACE)
target_link_libraries(cardsmith_options INTERFACE cardsmith_warnings cardsmith_sanitizers)
target_compile_definitions(cardsmith_options INTERFACE
  BOOST_ASIO_NO_DEPRECATED BOOST_BEAST_USE_STD_STRING_VIEW
  CARDSMITH_VERSION="${PROJECT_VERSION}")

# Helper: one static library per module, linked with the shared options.
function(cardsmith_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS" ${ARGN})
  add_library(cardsmith_${name} STATIC ${M_SOURCES})
  target_include_directories(cardsmith_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(cardsmith_${name} PUBLIC ${M_DEPS} PRIVATE cardsmith_options)
endfunction()
