#include "domain/holder.hpp"

#include <cctype>
#include <cstdint>

namespace cardsmith::domain {

std::optional<std::string> normalize_phone(std::string_view input) {
    std::string digits;
    bool plus = false;
    for (char c : input) {
        if (c == '+' && digits.empty() && !plus) {
            plus = true;
        } else if (c >= '0' && c <= '9') {
            digits += c;
        } else if (c == ' ' || c == '-' || c == '(' || c == ')' || c == '.') {
            continue;
        } else {
            return std::nullopt;
        }
    }
    if (!plus || digits.size() < 8 || digits.size() > 15 || digits[0] == '0') {
        return std::nullopt;
    }
    return "+" + digits;
}

std::optional<std::string> normalize_name(std::string_view input) {
    if (input.size() > 100 || !is_clean_text(input)) {
        return std::nullopt;
    }
    return std::string(input);
}

std::optional<std::string> normalize_email(std::string_view input) {
    if (input.empty() || input.size() > 254) {
        return std::nullopt;
    }
    auto at = input.rfind('@');
    if (at == std::string_view::npos || at == 0 || at > 64 || at + 1 >= input.size()) {
        return std::nullopt;
    }
    std::string_view local = input.substr(0, at);
    std::string_view domain = input.substr(at + 1);
    for (char c : local) {
        auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7F || c == '@' || c == '"' || c == '(' || c == ')' || c == ',' ||
            c == ':' || c == ';' || c == '<' || c == '>' || c == '[' || c == ']' || c == '\\') {
            return std::nullopt;
        }
    }
    if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
        return std::nullopt;
    }
    // Domain: labels of [A-Za-z0-9-] (or UTF-8 for IDNs), at least one dot, no empty label.
    if (domain.find('.') == std::string_view::npos || domain.front() == '.' ||
        domain.back() == '.' || domain.find("..") != std::string_view::npos) {
        return std::nullopt;
    }
    std::string out(local);
    out += '@';
    for (char c : domain) {
        auto u = static_cast<unsigned char>(c);
        if (!(std::isalnum(u) || c == '-' || c == '.' || u >= 0x80)) {
            return std::nullopt;
        }
        out += static_cast<char>(std::tolower(u));
    }
    return out;
}

bool is_clean_text(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        auto c = static_cast<unsigned char>(text[i]);
        std::size_t n = 0;
        std::uint32_t cp = 0;
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7F) {
                return false;
            }
            ++i;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 1;
            cp = c & 0x1Fu;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2;
            cp = c & 0x0Fu;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3;
            cp = c & 0x07u;
        } else {
            return false;
        }
        for (std::size_t k = 1; k <= n; ++k) {
            if (i + k >= text.size()) {
                return false;
            }
            auto cc = static_cast<unsigned char>(text[i + k]);
            if ((cc & 0xC0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (cc & 0x3Fu);
        }
        // Overlong forms, surrogates and out-of-range code points are invalid.
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
            return false;
        }
        i += n + 1;
    }
    return true;
}

}  // namespace cardsmith::domain
