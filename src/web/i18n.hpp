#pragma once
// The enrollment pages' message catalog (English and Russian), lookup with fallback to
// English, integer plural rules (Unicode CLDR "Language Plural Rules" for en and ru) and
// number formatting. Pure; the catalog is a constant table, so everything is thread-safe.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cardsmith::web {

enum class Lang {
    en,  // English, the fallback for every missing message
    ru,  // Russian
};

// "ru", "RU", "ru-RU", "ru_RU" → ru; anything else (including "") → en.
[[nodiscard]] Lang parse_lang(std::string_view tag);
// The BCP 47 tag for <html lang>: "en" or "ru".
[[nodiscard]] std::string_view lang_code(Lang lang);

// The message for `key` in `lang`, else in English; nullopt when the catalog lacks the key.
[[nodiscard]] std::optional<std::string_view> find_message(Lang lang, std::string_view key);
// As find_message, but an unknown key comes back as the key itself (shown escaped as is).
// The result may view `key`: keep it alive while using the result.
[[nodiscard]] std::string_view message(Lang lang, std::string_view key);

// CLDR plural categories for integers: English uses one/other, Russian one/few/many.
enum class PluralForm {
    one,    // en: 1; ru: 1, 21, 31... but not 11
    few,    // ru: 2-4, 22-24... but not 12-14
    many,   // ru: 0, 5-20, 25-30...
    other,  // en: everything but 1
};
[[nodiscard]] PluralForm plural_form(Lang lang, std::int64_t n);
// The message "<key>.<form>" for n ("points.few"), falling back to "<key>.other".
[[nodiscard]] std::string_view plural_message(Lang lang, std::string_view key, std::int64_t n);

// Digits grouped by three: "1,250" (en), "1 250" with a no-break space U+00A0 (ru).
[[nodiscard]] std::string format_number(Lang lang, std::int64_t n);
// "1,250 points", "1 point" / "1 250 баллов", "2 балла", "21 балл".
[[nodiscard]] std::string format_points(std::string_view lang, std::int64_t n);

}  // namespace cardsmith::web
