#pragma once
// The lock-screen linter: what a holder will (or will not) see on the lock screen when a
// design is published or a campaign is sent. Wallet shows a field's changeMessage when
// that field's value changes in an update, with %@ replaced by the new value; when several
// fields with a changeMessage change in one update it shows only a generic "<pass>
// changed" message (apple-wallet.md §1.3, §3.5). Pure functions; thread-safe.
//
// Finding codes (LintFinding::code), by rule:
//   change_message_missing_value    changeMessage without %@: error on {{offer}} and
//                                   {{balance}}/{{lifetimePoints}} fields, warning elsewhere
//   change_message_multiple_values  more than one %@ (error)
//   change_message_too_long         over 100 characters with a 10-character value (warning)
//   offer_change_message_missing    an {{offer}} field without a changeMessage (error)
//   balance_change_message_missing  a {{balance}}/{{lifetimePoints}} field without one
//                                   (warning)
//   purchase_generic_message        two or more fields with a changeMessage move on a
//                                   purchase (balance, lifetimePoints, tier) (warning)
//   offer_generic_message           two or more {{offer}} fields have a changeMessage
//                                   (warning)
//   publish_notifies_holders        publishing changes a field that has a changeMessage
//                                   (warning)
//   publish_generic_message         publishing changes two or more such fields (warning)
//   offer_field_removed             the {{offer}} field is gone (see lint_design)
//   message_empty, message_too_long, message_long, message_invalid_text,
//   header_long, header_invalid_text, no_offer_field      lint_campaign
#include <boost/json/object.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "domain/design.hpp"

namespace cardsmith::domain {

struct LintFinding {
    std::string field;    // JSON path, e.g. "fields.primary[0].changeMessage", or "message"
    std::string code;     // snake_case rule id, e.g. "change_message_missing_value"
    std::string message;  // for a person: what is wrong and what to do
};

struct LintReport {
    std::vector<LintFinding> errors;    // block publishing / sending
    std::vector<LintFinding> warnings;  // returned, do not block
    [[nodiscard]] bool ok() const { return errors.empty(); }
};

// A design about to be published. `before`: the design the cards carry now (nullptr for a
// new program). Fields are matched by key across groups, as Wallet diffs them.
[[nodiscard]] LintReport lint_design(const Design* before, const Design& after);
// A campaign message (lock-screen text) for cards of `design`. header may be empty; it is
// one line (no newline allowed), the message may hold newlines.
[[nodiscard]] LintReport lint_campaign(const Design& design, std::string_view header,
                                       std::string_view message);
// {"errors":[{"field","code","message"}],"warnings":[...]}
[[nodiscard]] boost::json::object lint_to_json(const LintReport& report);

}  // namespace cardsmith::domain
