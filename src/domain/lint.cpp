#include "domain/lint.hpp"

#include <algorithm>
#include <array>
#include <boost/json/array.hpp>
#include <cstdint>
#include <optional>

namespace cardsmith::domain {
namespace json = boost::json;
namespace {

constexpr std::size_t kMaxChangeMessage = 100;  // code points; lock screens cut longer ones
constexpr std::size_t kTypicalValue = 10;       // code points assumed for %@
constexpr std::size_t kMaxMessage = 500;
constexpr std::size_t kLongMessage = 120;  // about two lock-screen lines
constexpr std::size_t kLongHeader = 40;
constexpr std::string_view kValueMarker = "%@";

struct FieldRef {
    const PassField* field;
    std::string path;  // "fields.header[0]"
};

std::vector<FieldRef> all_fields(const Design& d) {
    std::vector<FieldRef> out;
    for (std::size_t g = 0; g < d.fields.size(); ++g) {
        const auto& list = d.fields.at(g);
        for (std::size_t i = 0; i < list.size(); ++i) {
            out.push_back({&list.at(i), "fields." + std::string(kFieldGroupNames.at(g)) + "[" +
                                            std::to_string(i) + "]"});
        }
    }
    return out;
}

bool uses(const PassField& f, std::string_view placeholder) {
    auto names = placeholders_in(f.value);
    return std::find(names.begin(), names.end(), placeholder) != names.end();
}

bool uses_balance(const PassField& f) { return uses(f, "balance") || uses(f, "lifetimePoints"); }

// Placeholders that all move with one purchase transaction.
bool moves_on_purchase(const PassField& f) { return uses_balance(f) || uses(f, "tier"); }

std::size_t count_markers(std::string_view text) {
    std::size_t n = 0;
    for (auto pos = text.find(kValueMarker); pos != std::string_view::npos;
         pos = text.find(kValueMarker, pos + kValueMarker.size())) {
        ++n;
    }
    return n;
}

// Code points of text already validated elsewhere (validate_design): counts lead bytes.
std::size_t code_points(std::string_view text) {
    return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0u) != 0x80u;
    }));
}

bool is_control(std::uint32_t cp) { return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F); }

// Code points of valid UTF-8 without control characters (except '\n' when allowed);
// nullopt for anything else (overlong forms, surrogates, truncated sequences...).
std::optional<std::size_t> clean_code_points(std::string_view text, bool allow_newline) {
    std::size_t count = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        auto lead = static_cast<unsigned char>(text[i]);
        std::size_t extra = 0;
        std::uint32_t cp = 0;
        std::uint32_t min = 0;
        if (lead < 0x80) {
            cp = lead;
        } else if ((lead & 0xE0u) == 0xC0u) {
            extra = 1, cp = lead & 0x1Fu, min = 0x80;
        } else if ((lead & 0xF0u) == 0xE0u) {
            extra = 2, cp = lead & 0x0Fu, min = 0x800;
        } else if ((lead & 0xF8u) == 0xF0u) {
            extra = 3, cp = lead & 0x07u, min = 0x10000;
        } else {
            return std::nullopt;
        }
        if (extra >= text.size() - i) {
            return std::nullopt;
        }
        for (std::size_t k = 1; k <= extra; ++k) {
            auto c = static_cast<unsigned char>(text[i + k]);
            if ((c & 0xC0u) != 0x80u) {
                return std::nullopt;
            }
            cp = (cp << 6) | (c & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) ||
            (is_control(cp) && !(allow_newline && cp == '\n'))) {
            return std::nullopt;
        }
        i += extra + 1;
        ++count;
    }
    return count;
}

bool is_blank(std::string_view text) {
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; });
}

// "\"a\"", "\"a\" and \"b\"", "\"a\", \"b\" and \"c\"".
std::string join_keys(const std::vector<std::string>& keys) {
    std::string out;
    for (std::size_t i = 0; i < keys.size(); ++i) {
        if (i > 0) {
            out += i + 1 == keys.size() ? " and " : ", ";
        }
        out += "\"" + keys.at(i) + "\"";
    }
    return out;
}

void add(std::vector<LintFinding>& to, std::string field, std::string code, std::string message) {
    to.push_back({std::move(field), std::move(code), std::move(message)});
}

void lint_field(const FieldRef& ref, LintReport& report) {
    const PassField& f = *ref.field;
    const std::string path = ref.path + ".changeMessage";
    const bool offer = uses(f, "offer");
    const bool balance = uses_balance(f);
    if (f.change_message.empty()) {
        if (offer) {
            add(report.errors, path, "offer_change_message_missing",
                "This field shows {{offer}} but has no changeMessage, so new offers arrive "
                "silently. Add one with %@, e.g. \"%@\".");
        } else if (balance) {
            add(report.warnings, path, "balance_change_message_missing",
                "This field shows the balance but has no changeMessage, so balance changes "
                "update the card silently. Add one such as \"You now have %@ points\".");
        }
        return;
    }
    const std::size_t markers = count_markers(f.change_message);
    if (markers == 0) {
        add(offer || balance ? report.errors : report.warnings, path,
            "change_message_missing_value",
            "The changeMessage has no %@, so the lock screen never shows the new value. Put %@ "
            "where the value belongs.");
    } else if (markers > 1) {
        add(report.errors, path, "change_message_multiple_values",
            "The changeMessage has more than one %@; use it exactly once.");
    }
    const std::size_t length =
        code_points(f.change_message) - markers * kValueMarker.size() + markers * kTypicalValue;
    if (length > kMaxChangeMessage) {
        add(report.warnings, path, "change_message_too_long",
            "With a typical value the changeMessage is " + std::to_string(length) +
                " characters; lock screens cut it after about " +
                std::to_string(kMaxChangeMessage) + ". Shorten it.");
    }
}

// Several fields with a changeMessage changing in one update collapse into a generic
// message, so fields that change together should not all carry one.
void lint_simultaneous(const std::vector<FieldRef>& fields, LintReport& report) {
    std::vector<std::string> purchase;
    std::vector<std::string> offer;
    for (const auto& ref : fields) {
        if (ref.field->change_message.empty()) {
            continue;
        }
        if (moves_on_purchase(*ref.field)) {
            purchase.push_back(ref.field->key);
        }
        if (uses(*ref.field, "offer")) {
            offer.push_back(ref.field->key);
        }
    }
    if (purchase.size() > 1) {
        add(report.warnings, "fields", "purchase_generic_message",
            "Fields " + join_keys(purchase) +
                " have a changeMessage and can change with the same purchase (balance, "
                "lifetime points and tier move together): a purchase that changes " +
                (purchase.size() == 2 ? std::string("both") : std::string("several of them")) +
                " shows only a generic message. Keep a changeMessage on the one that matters "
                "most.");
    }
    if (offer.size() > 1) {
        add(report.warnings, "fields", "offer_generic_message",
            "Fields " + join_keys(offer) +
                " all show {{offer}} with a changeMessage: a new offer changes them together, "
                "so Wallet shows only a generic message. Keep a changeMessage on one of them.");
    }
}

const PassField* find_key(const Design& d, const std::string& key) {
    for (const auto& group : d.fields) {
        for (const auto& f : group) {
            if (f.key == key) {
                return &f;
            }
        }
    }
    return nullptr;
}

// The template with placeholder spelling normalised ("{{ balance }}" == "{{balance}}").
std::string normalized(std::string_view value) {
    static const PlaceholderValues canonical = [] {
        PlaceholderValues v;
        for (auto name : kPlaceholders) {
            v.emplace(std::string(name), "{{" + std::string(name) + "}}");
        }
        return v;
    }();
    return render_placeholders(value, canonical);
}

bool same_tiers(const std::vector<Tier>& a, const std::vector<Tier>& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const Tier& x, const Tier& y) {
        return x.name == y.name && x.min_points == y.min_points;
    });
}

// Why publishing changes the value holders see in `after` (empty: it does not). Besides
// the template, values drawn from the design itself change too.
std::string change_reason(const Design& before, const PassField& old_field, const Design& after,
                          const PassField& f) {
    if (normalized(old_field.value) != normalized(f.value)) {
        return "its text changes";
    }
    if (uses(f, "program.name") && before.name != after.name) {
        return "the program name changes";
    }
    if (uses(f, "offer") && before.default_offer != after.default_offer) {
        return "the default offer changes, for holders without an offer of their own";
    }
    if (uses(f, "tier") && !same_tiers(before.tiers, after.tiers)) {
        return "the tiers change, for holders whose tier changes";
    }
    return {};
}

bool has_offer_field(const Design& d) {
    return std::any_of(d.fields.begin(), d.fields.end(), [](const auto& group) {
        return std::any_of(group.begin(), group.end(),
                           [](const PassField& f) { return uses(f, "offer"); });
    });
}

void lint_publish(const Design& before, const Design& after, const std::vector<FieldRef>& fields,
                  LintReport& report) {
    std::vector<std::string> changed;
    for (const auto& ref : fields) {
        const PassField& f = *ref.field;
        const PassField* old_field = find_key(before, f.key);
        // A new key is not a change of value: Wallet shows no message for it.
        if (f.change_message.empty() || old_field == nullptr) {
            continue;
        }
        std::string reason = change_reason(before, *old_field, after, f);
        if (reason.empty()) {
            continue;
        }
        changed.push_back(f.key);
        add(report.warnings, ref.path + ".value", "publish_notifies_holders",
            "Publishing changes this field's value (" + reason +
                "), so every holder concerned gets the lock-screen message \"" + f.change_message +
                "\". Publish without its changeMessage first if no notification is wanted.");
    }
    if (changed.size() > 1) {
        add(report.warnings, "fields", "publish_generic_message",
            "Publishing changes " + join_keys(changed) +
                ", which all have a changeMessage: Wallet shows only a generic message that the "
                "pass changed instead of yours.");
    }
    // The {{offer}} field gone altogether: cards stop showing their offer, silently, and
    // campaigns have nowhere to go. While the design still has a default offer that is
    // surely a mistake (error); with the default offer cleared too the merchant is dropping
    // offers on purpose, so it only warns. An {{offer}} field moved to another key is fine.
    if (has_offer_field(before) && !has_offer_field(after)) {
        const bool keeps_offer = !after.default_offer.empty();
        add(keeps_offer ? report.errors : report.warnings, "fields", "offer_field_removed",
            keeps_offer ? "No field shows {{offer}} any more, so the default offer and every "
                          "campaign would have nowhere to show. Keep a field with {{offer}}, or "
                          "clear defaultOffer to stop offers on purpose."
                        : "No field shows {{offer}} any more: cards lose their offer silently "
                          "and campaigns cannot be sent.");
    }
}

}  // namespace

LintReport lint_design(const Design* before, const Design& after) {
    LintReport report;
    const auto fields = all_fields(after);
    for (const auto& ref : fields) {
        lint_field(ref, report);
    }
    lint_simultaneous(fields, report);
    if (before != nullptr) {
        lint_publish(*before, after, fields, report);
    }
    return report;
}

LintReport lint_campaign(const Design& design, std::string_view header, std::string_view message) {
    LintReport report;
    const auto length = clean_code_points(message, true);
    if (is_blank(message)) {
        add(report.errors, "message", "message_empty", "Write the message holders will see.");
    } else if (!length) {
        add(report.errors, "message", "message_invalid_text",
            "The message must be valid UTF-8 text without control characters (line breaks "
            "are fine).");
    } else if (*length > kMaxMessage) {
        add(report.errors, "message", "message_too_long",
            "The message has " + std::to_string(*length) + " characters; the limit is " +
                std::to_string(kMaxMessage) + ".");
    } else if (*length > kLongMessage) {
        add(report.warnings, "message", "message_long",
            "The message has " + std::to_string(*length) +
                " characters; a lock screen shows about two lines (" +
                std::to_string(kLongMessage) + " characters). Put the point first.");
    }
    if (!header.empty()) {
        const auto header_length = clean_code_points(header, false);
        if (!header_length) {
            add(report.errors, "header", "header_invalid_text",
                "The header must be one line of valid UTF-8 text without control characters.");
        } else if (*header_length > kLongHeader) {
            add(report.warnings, "header", "header_long",
                "The header has " + std::to_string(*header_length) +
                    " characters; wallets cut it after about " + std::to_string(kLongHeader) + ".");
        }
    }
    const auto fields = all_fields(design);
    std::vector<const FieldRef*> offer_fields;
    for (const auto& ref : fields) {
        if (uses(*ref.field, "offer")) {
            offer_fields.push_back(&ref);
        }
    }
    if (offer_fields.empty()) {
        add(report.errors, "fields", "no_offer_field",
            "No field of the design shows {{offer}}: the offer has nowhere to show on Apple and "
            "Android passes. Add {{offer}} to a field of the design.");
    } else if (std::none_of(offer_fields.begin(), offer_fields.end(), [](const FieldRef* ref) {
                   return count_markers(ref->field->change_message) > 0;
               })) {
        add(report.errors, offer_fields.front()->path + ".changeMessage",
            "offer_change_message_missing",
            "The {{offer}} field has no changeMessage with %@, so the campaign would update "
            "cards without a notification. Add a changeMessage such as \"%@\" to the design.");
    }
    LintReport simultaneous;
    lint_simultaneous(fields, simultaneous);
    for (auto& w : simultaneous.warnings) {
        if (w.code == "offer_generic_message") {
            report.warnings.push_back(std::move(w));
        }
    }
    return report;
}

json::object lint_to_json(const LintReport& report) {
    auto to_array = [](const std::vector<LintFinding>& findings) {
        json::array out;
        for (const auto& f : findings) {
            out.push_back(
                json::object{{"field", f.field}, {"code", f.code}, {"message", f.message}});
        }
        return out;
    };
    return json::object{{"errors", to_array(report.errors)},
                        {"warnings", to_array(report.warnings)}};
}

}  // namespace cardsmith::domain
