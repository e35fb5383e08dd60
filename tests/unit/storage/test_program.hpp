#pragma once
// The program the storage suite's fixtures make (test_store.cpp, test_key_store.cpp): a
// minimal design on the coffee template, created at time 100.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <string>

#include "domain/design.hpp"
#include "storage/store.hpp"

namespace cardsmith::test {

// Program `slug` of merchant `m`, named "P", with a design named "T" (no images).
inline storage::NewProgram new_program(const std::string& slug, MerchantId m) {
    storage::NewProgram np;
    np.merchant = m;
    np.slug = slug;
    np.name = "P";
    np.template_name = "coffee";
    domain::Design d;
    d.name = "T";
    d.description = "D";
    d.organization_name = "O";
    np.design_json = boost::json::serialize(domain::design_to_json(d));
    np.now = 100;
    return np;
}

// Creates `np` in `store`; the test stops unless the store answered ok.
inline domain::Program create_program(storage::Store& store, const storage::NewProgram& np) {
    auto out = store.create_program(np);
    BOOST_REQUIRE(out.status == storage::StoreStatus::ok);
    return *out.value;
}

}  // namespace cardsmith::test
