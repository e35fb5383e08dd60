#pragma once
// The fixture of the wallet and outbox suites (test_wallet_store.cpp, test_ops_store.cpp): a
// fresh migrated store holding one merchant, its program "shop" (a minimal design) and one
// card, 4111111111111111 with serial "serial1".
#include <boost/json.hpp>
#include <memory>
#include <string>

#include "domain/design.hpp"
#include "storage/store.hpp"
#include "test_database.hpp"

namespace cardsmith::test {

struct OneCard {
    TestDatabase database;
    std::unique_ptr<storage::Store> store;
    domain::Merchant merchant;
    domain::Card card;

    // `file`: the SQLite file's name in the test's folder; `connections`: the store's pool.
    OneCard(const char* file, unsigned connections)
        : database(file), store(database.open(connections, 10000)) {
        store->migrate();
        merchant = store->create_merchant("M", "hash", "prefix", 1);
        storage::NewProgram np;
        np.merchant = merchant.id;
        np.slug = "shop";
        domain::Design d;
        d.name = d.description = d.organization_name = "x";
        np.design_json = boost::json::serialize(domain::design_to_json(d));
        auto p = store->create_program(np);
        storage::NewCard nc;
        nc.program = p.value->id;
        nc.number = CardNumber("4111111111111111");
        nc.serial = SerialNumber("serial1");
        nc.auth_token = AuthToken(std::string(32, 'a'));
        nc.now = 1000;
        card = *store->create_card(nc).value;
    }
};

}  // namespace cardsmith::test
