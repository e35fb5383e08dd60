#pragma once
// The enrollment form as a browser uses it, for integration tests: url-encoding, and
// opening /join/{slug} to get the cs_join cookie and the form's csrf token.
#include <boost/test/unit_test.hpp>
#include <cctype>
#include <cstdio>
#include <map>
#include <regex>
#include <string>

#include "http_client.hpp"

namespace cardsmith::test {

inline std::string form_encode(const std::map<std::string, std::string>& fields) {
    std::string out;
    for (const auto& [k, v] : fields) {
        if (!out.empty()) out += '&';
        out += k + '=';
        for (char ch : v) {
            const auto c = static_cast<unsigned char>(ch);
            if (std::isalnum(c) || c == '-' || c == '_' || c == '.') {
                out += ch;
            } else if (c == ' ') {
                out += '+';
            } else {
                char buf[4];
                std::snprintf(buf, sizeof buf, "%%%02X", c);
                out += buf;
            }
        }
    }
    return out;
}

struct JoinForm {
    std::string cookie, csrf;
};

inline JoinForm open_form(Client& client, const std::string& target) {
    auto page = client.get(target);
    BOOST_REQUIRE_EQUAL(page.result_int(), 200);
    std::string set_cookie(page[bhttp::field::set_cookie]);
    BOOST_REQUIRE(set_cookie.rfind("cs_join=", 0) == 0u);
    BOOST_TEST(set_cookie.find("HttpOnly") != std::string::npos);
    BOOST_TEST(set_cookie.find("SameSite=Lax") != std::string::npos);
    std::smatch m;
    BOOST_REQUIRE(
        std::regex_search(page.body(), m, std::regex("name=\"csrf\" value=\"([0-9a-f]+)\"")));
    return {set_cookie.substr(0, set_cookie.find(';')), m[1].str()};
}

}  // namespace cardsmith::test
