# Debian 12 packages only (see scripts/deps.sh).
find_package(Boost 1.81.0 REQUIRED CONFIG COMPONENTS json url unit_test_framework)
find_package(OpenSSL 3 REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(ZLIB REQUIRED)
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
# libzip's CMake package references its command-line tools (not installed by
# libzip-dev), so it is found through pkg-config.
pkg_check_modules(LIBZIP REQUIRED IMPORTED_TARGET libzip)
pkg_check_modules(NGHTTP2 REQUIRED IMPORTED_TARGET libnghttp2)
pkg_check_modules(QRENCODE REQUIRED IMPORTED_TARGET libqrencode)
pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq)

add_library(cardsmith_boost INTERFACE)
target_link_libraries(cardsmith_boost INTERFACE Boost::headers Boost::json Boost::url Threads::Threads)
