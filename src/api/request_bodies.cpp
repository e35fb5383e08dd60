#include "api/request_bodies.hpp"

#include "api/card_issuer.hpp"
#include "api/request_helpers.hpp"

namespace cardsmith::api {
namespace json = boost::json;
namespace {

Result<domain::Holder> parse_holder(const json::object& body) {
    domain::Holder h;
    const json::value* v = body.if_contains("holder");
    if (v == nullptr || v->is_null()) {
        return h;
    }
    if (!v->is_object()) {
        return invalid("holder", "must be an object");
    }
    const auto& o = v->as_object();
    if (auto e = reject_unknown(o, {"name", "phone", "email"}, "holder.")) {
        return *e;
    }
    auto name = get_string(o, "name", "holder.");
    auto phone = get_string(o, "phone", "holder.");
    auto email = get_string(o, "email", "holder.");
    for (const auto* r : {&name, &phone, &email}) {
        if (!*r) {
            return r->error();
        }
    }
    if (*name) {
        auto n = domain::normalize_name(**name);
        if (!n) {
            return invalid("holder.name", "must be at most 100 characters of text");
        }
        h.name = *n;
    }
    if (*phone && !(*phone)->empty()) {
        auto p = domain::normalize_phone(**phone);
        if (!p) {
            return invalid("holder.phone", "must be an international number like +4915112345678");
        }
        h.phone = *p;
    }
    if (*email && !(*email)->empty()) {
        auto e = domain::normalize_email(**email);
        if (!e) {
            return invalid("holder.email", "must be an e-mail address");
        }
        h.email = *e;
    }
    return h;
}

}  // namespace

Result<NewCardBody> parse_new_card(const json::object& body) {
    if (auto e = reject_unknown(body, {"holder", "balance"})) {
        return *e;
    }
    auto holder = parse_holder(body);
    if (!holder) {
        return holder.error();
    }
    auto balance = get_int(body, "balance");
    if (!balance) {
        return balance.error();
    }
    if (balance->value_or(0) < 0 || balance->value_or(0) > kMaxBalance) {
        return invalid("balance", "must be between 0 and " + std::to_string(kMaxBalance));
    }
    return NewCardBody{std::move(*holder), balance->value_or(0)};
}

Result<TransactionBody> parse_transaction(const json::object& body, const domain::EarnRule& rule) {
    if (auto e = reject_unknown(body, {"points", "amount", "note"})) {
        return *e;
    }
    auto points = get_int(body, "points");
    auto amount = get_int(body, "amount");
    auto note = get_string(body, "note");
    if (!points) return points.error();
    if (!amount) return amount.error();
    if (!note) return note.error();
    TransactionBody out;
    if (points->has_value() == amount->has_value()) {
        return invalid("points", "give exactly one of points and amount");
    }
    if (*points) {
        if (**points == 0 || **points > kMaxPointsPerTransaction ||
            **points < -kMaxPointsPerTransaction) {
            return invalid("points", "must be a non-zero integer within ±10^12");
        }
        out.points = **points;
    } else {
        if (**amount <= 0 || **amount > kMaxPointsPerTransaction) {
            return invalid("amount", "must be a positive amount in minor units, at most 10^12");
        }
        out.amount = **amount;
        // Earn rule: `points` for every whole `per` minor units.
        std::int64_t earned = 0;
        if (__builtin_mul_overflow(**amount / rule.per, rule.points, &earned) ||
            earned > kMaxPointsPerTransaction) {
            return invalid("amount", "earns more than 10^12 points");
        }
        out.points = earned;
    }
    if (*note) {
        if ((*note)->size() > 500 || !domain::is_clean_text(**note)) {
            return invalid("note", "must be at most 500 characters of text");
        }
        out.note = **note;
    }
    return out;
}

}  // namespace cardsmith::api
