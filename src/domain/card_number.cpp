#include "domain/card_number.hpp"

#include "common/check.hpp"
#include "common/random.hpp"

namespace cardsmith::domain {

char luhn_check_digit(std::string_view digits) {
    int sum = 0;
    bool doubled = true;  // the digit left of the check digit is doubled
    for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
        int d = *it - '0';
        if (doubled) {
            d *= 2;
            if (d > 9) {
                d -= 9;
            }
        }
        sum += d;
        doubled = !doubled;
    }
    return static_cast<char>('0' + (10 - sum % 10) % 10);
}

bool is_valid_card_number(std::string_view number) {
    if (number.size() < 12 || number.size() > 19) {
        return false;
    }
    for (char c : number) {
        if (c < '0' || c > '9') {
            return false;
        }
    }
    return luhn_check_digit(number.substr(0, number.size() - 1)) == number.back();
}

std::string generate_card_number(std::size_t length) {
    CARDSMITH_CHECK(length >= 12 && length <= 19);
    std::string out;
    out.reserve(length);
    out += static_cast<char>('1' + random::uniform(9));
    while (out.size() < length - 1) {
        out += static_cast<char>('0' + random::uniform(10));
    }
    out += luhn_check_digit(out);
    return out;
}

}  // namespace cardsmith::domain
