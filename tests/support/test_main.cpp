// The one translation unit that defines the Boost.Test entry point for each test binary.
#define BOOST_TEST_MODULE cardsmith
#include <boost/test/unit_test.hpp>
