#include <boost/test/unit_test.hpp>
#include <string>

#include "common/lru_cache.hpp"

using cardsmith::LruCache;

BOOST_AUTO_TEST_SUITE(lru_cache)

BOOST_AUTO_TEST_CASE(evicts_least_recently_used_within_the_byte_bound) {
    LruCache<std::string, std::string> cache(10, [](const std::string& v) { return v.size(); });
    cache.put("a", std::make_shared<const std::string>("1234"));
    cache.put("b", std::make_shared<const std::string>("5678"));
    BOOST_TEST(cache.get("a") != nullptr);                        // a is now the most recent
    cache.put("c", std::make_shared<const std::string>("9012"));  // 12 bytes > 10: evict b
    BOOST_TEST(cache.get("b") == nullptr);
    BOOST_TEST(*cache.get("a") == "1234");
    BOOST_TEST(*cache.get("c") == "9012");
    BOOST_TEST(cache.stats().bytes <= 10u);
    cache.put("huge", std::make_shared<const std::string>(std::string(11, 'x')));
    BOOST_TEST(cache.get("huge") == nullptr);  // larger than the bound: not cached
    BOOST_TEST(cache.get("a") != nullptr);
}

BOOST_AUTO_TEST_CASE(replacing_a_key_keeps_the_count_right) {
    LruCache<int, std::string> cache(100, [](const std::string& v) { return v.size(); });
    for (int i = 0; i < 10; ++i) {
        cache.put(1, std::make_shared<const std::string>(std::string(10, 'a')));
    }
    BOOST_TEST(cache.stats().entries == 1u);
    BOOST_TEST(cache.stats().bytes == 10u);
}

BOOST_AUTO_TEST_SUITE_END()
