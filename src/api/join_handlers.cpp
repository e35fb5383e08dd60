// Enrollment by link or QR code (issue 4): GET /join/{slug} (the form), POST /join/{slug}
// (validation, then the card, or first a one-time code when the program verifies the phone
// or email) and POST /join/{slug}/verify (the code, or a new one). One person, one card: a
// verified phone or email that already holds a card gets that card back (restore), and
// without verification a contact already on file is refused. An invite link (?ref=)
// credits both cards once per new person. Works without JavaScript; CSRF-protected by a
// double-submit cookie (join_forms.hpp).
#include "api/card_issuer.hpp"
#include "api/handlers.hpp"
#include "api/join_forms.hpp"
#include "api/page_views.hpp"
#include "api/request_helpers.hpp"
#include "common/log.hpp"
#include "common/random.hpp"
#include "common/time_format.hpp"
#include "domain/holder.hpp"
#include "enroll/codes.hpp"
#include "http/query.hpp"
#include "http/response.hpp"

namespace cardsmith::api {
namespace {

Response not_found_page(const RequestContext& rc) {
    return error_page(http::status::not_found, "en", "program_not_found", rc.request.version());
}

bool is_form_post(const RequestContext& rc) {
    std::string_view type = rc.request[http::field::content_type];
    return type.substr(0, type.find(';')) == "application/x-www-form-urlencoded";
}

Response form_type_error(const RequestContext& rc) {
    return fail(
        {ApiErrc::unsupported_media_type, "send the form as application/x-www-form-urlencoded", {}},
        rc.request);
}

// Checks the typed form against the program's rules; errors go into state.errors.
Applicant validate(const domain::Program& program, FormState& state) {
    Applicant a;
    a.src = state.src;
    a.ref = state.ref;
    const auto& rules = program.enrollment;
    // A field the form does not show is ignored; a required one must be there.
    const auto take = [&](const char* field, domain::FieldMode m) -> std::string {
        if (m == domain::FieldMode::off) {
            return {};
        }
        const std::string value = state.values[field];
        if (value.empty() && m == domain::FieldMode::required) {
            state.errors[field] = "required";
        }
        return value;
    };
    if (auto name = take("name", rules.name); !name.empty()) {
        if (auto normal = domain::normalize_name(name)) {
            a.holder.name = *normal;
        } else {
            state.errors["name"] = "invalid_name";
        }
    }
    if (auto phone = take("phone", rules.phone); !phone.empty()) {
        if (auto normal = domain::normalize_phone(phone)) {
            a.holder.phone = *normal;
        } else {
            state.errors["phone"] = "invalid_phone";
        }
    }
    if (auto email = take("email", rules.email); !email.empty()) {
        if (auto normal = domain::normalize_email(email)) {
            a.holder.email = *normal;
        } else {
            state.errors["email"] = "invalid_email";
        }
    }
    if (auto day = take("birthday", rules.birthday); !day.empty()) {
        const auto today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
        const int year = static_cast<int>(std::chrono::year_month_day(today).year());
        if (domain::is_valid_birthday(day, year)) {
            a.birthday = day;
        } else {
            state.errors["birthday"] = "invalid_birthday";
        }
    }
    if (state.values["consent"] != "on") {
        state.errors["consent"] = "consent_required";
    }
    return a;
}

// The verified (or typed) contact that identifies the person: once-per-person referral
// bonuses and restores key on it.
std::string person_of(const domain::Program& p, const Applicant& a) {
    if (p.enrollment.verification.channel == domain::VerifyChannel::email) {
        return a.holder.email;
    }
    return !a.holder.phone.empty() ? a.holder.phone : a.holder.email;
}

Response see_card(const RequestContext& rc, const domain::Card& card, bool restored) {
    Response res{http::status::see_other, rc.request.version()};
    res.set(http::field::location, "/c/" + card.serial.value() + (restored ? "?welcome=back" : ""));
    res.set(http::field::cache_control, "no-store");
    return res;
}

// Issues the card (with the invite's bonuses) and sends the browser to its page.
net::awaitable<Response> async_issue(ApiContext& ctx, const RequestContext& rc,
                                     const domain::Program& program, const Applicant& a,
                                     bool verified) {
    IssueOptions options;
    options.source = a.src.empty() ? "join" : a.src;
    options.birthday = a.birthday;
    options.verified = verified;
    const std::string person = person_of(program, a);
    if (!a.ref.empty() && program.enrollment.referrals_on() && !person.empty()) {
        storage::NewReferral r;
        r.code = a.ref;
        std::transform(r.code.begin(), r.code.end(), r.code.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        r.person = person;
        r.referrer_bonus = program.enrollment.referrer_bonus;
        r.friend_bonus = program.enrollment.friend_bonus;
        r.merchant = program.merchant;
        options.referral = std::move(r);
    }
    auto card = co_await async_issue_card(ctx, program, a.holder, 0, options);
    if (!card) {
        // A customer at the door gets a page, not the API's JSON: the program has as many
        // cards as it may have (limits.max_cards_per_program).
        if (card.error().code == ApiErrc::limit_reached) {
            co_return error_page(http::status::forbidden, page_lang(program), "program_full",
                                 rc.request.version());
        }
        co_return fail(card.error(), rc.request);
    }
    log::info("card enrolled", {{"program", program.slug},
                                {"src", a.src.empty() ? "direct" : a.src},
                                {"verified", verified ? "yes" : "no"}});
    // No `src` label: tags come from links anyone can make, labels must stay few.
    ctx.metrics.counter_add("cardsmith_enrollments_total", "Cards issued through /join", {});
    co_return see_card(rc, *card, false);
}

// Makes a code, records it within the send limits, and delivers it; the code page, or
// the form (or code page) again with the reason it could not be sent.
net::awaitable<Response> async_send_code(ApiContext& ctx, const RequestContext& rc,
                                         const domain::Program& program, const Applicant& a,
                                         const std::string& replaces) {
    const auto& settings = program.enrollment.verification;
    const bool phone = settings.channel == domain::VerifyChannel::phone;
    const std::string code = enroll::new_code();
    storage::NewVerification v;
    v.id = random::base64url(18);
    v.program = program.id;
    v.channel = phone ? "phone" : "email";
    v.destination = phone ? a.holder.phone : a.holder.email;
    v.code_hash = enroll::code_hash(ctx.secrets->derive("verification-code"), v.id, code);
    v.form_json = applicant_to_json(a);
    v.ip = client_address(ctx, rc);
    v.now_ms = now_unix_millis();
    v.expires_at_ms = v.now_ms + settings.code_ttl_seconds * 1000LL;
    v.replaces = replaces;
    const storage::SendLimits limits = ctx.code_limits;
    auto started =
        co_await ctx.db.run([&](storage::Store& s) { return s.start_verification(v, limits); });
    const auto outcome = [&](const char* what) {
        ctx.metrics.counter_add("cardsmith_verification_codes_total", "One-time codes by outcome",
                                {{"outcome", what}});
    };
    using Status = storage::VerificationStart::Status;
    if (started.status != Status::started) {
        outcome(started.status == Status::limited ? "limited" : "gone");
        FormState state;
        state.errors["form"] =
            started.status == Status::limited ? "too_many_codes" : "verification_gone";
        auto res = join_page(ctx, rc, program,
                             started.status == Status::limited ? http::status::too_many_requests
                                                               : http::status::gone,
                             state);
        if (started.status == Status::limited) {
            res.set(http::field::retry_after,
                    std::to_string((started.retry_after_ms + 999) / 1000));
        }
        co_return res;
    }
    enroll::CodeMessage message;
    message.program_slug = program.slug;
    message.program_name = program.name;
    message.language = page_lang(program);
    message.channel = v.channel;
    message.destination = v.destination;
    message.code = code;
    message.expires_at_ms = v.expires_at_ms;
    message.ttl_seconds = settings.code_ttl_seconds;
    auto failure = co_await ctx.codes->async_send(program, message);
    if (failure) {
        outcome("failed");
        log::warn("verification code not sent", {{"program", program.slug}, {"reason", *failure}});
        FormState state;
        state.errors["form"] = "code_not_sent";
        state.values = {{"name", a.holder.name},
                        {"phone", a.holder.phone},
                        {"email", a.holder.email},
                        {"birthday", a.birthday},
                        {"consent", "on"}};
        state.src = a.src;
        state.ref = a.ref;
        co_return join_page(ctx, rc, program, http::status::service_unavailable, state);
    }
    outcome("sent");
    CodeStep step;
    step.pending_id = v.id;
    step.destination = v.destination;
    if (!replaces.empty()) {
        step.notice_key = "verify.resent";
    }
    co_return verify_page(ctx, rc, program, http::status::ok, step);
}

// The code was right: the card this contact already holds (restore on a new phone), or
// a new one.
net::awaitable<Response> async_finish(ApiContext& ctx, const RequestContext& rc,
                                      const domain::Program& program,
                                      const storage::PendingVerification& v) {
    auto applicant = applicant_from_json(v.form_json);
    if (!applicant) {
        co_return fail({ApiErrc::internal, "stored enrollment form is unreadable", {}}, rc.request);
    }
    const auto kind =
        v.channel == "phone" ? storage::ContactKind::phone : storage::ContactKind::email;
    const ProgramId id = program.id;
    auto existing = co_await ctx.db.run(
        [&](storage::Store& s) { return s.find_card_by_contact(id, kind, v.destination); });
    if (existing) {
        log::info("card restored", {{"program", program.slug}});
        ctx.metrics.counter_add("cardsmith_card_restores_total",
                                "Cards given back after a verified code", {});
        co_return see_card(rc, *existing, true);
    }
    co_return co_await async_issue(ctx, rc, program, *applicant, true);
}

}  // namespace

net::awaitable<Response> handle_join_page(ApiContext& ctx, RequestContext& rc) {
    const std::string& slug = rc.param("slug");
    auto program = co_await ctx.db.run([&](storage::Store& s) { return s.find_program(slug); });
    if (!program) {
        co_return not_found_page(rc);
    }
    FormState state;
    state.src = link_tag(rc.query, "src");
    state.ref = link_tag(rc.query, "ref");
    co_return join_page(ctx, rc, *program, http::status::ok, state);
}

net::awaitable<Response> handle_join_submit(ApiContext& ctx, RequestContext& rc) {
    const std::string& slug = rc.param("slug");
    auto program = co_await ctx.db.run([&](storage::Store& s) { return s.find_program(slug); });
    if (!program) {
        co_return not_found_page(rc);
    }
    if (!is_form_post(rc)) {
        co_return form_type_error(rc);
    }
    auto form = http_server::parse_form(rc.request.body());
    FormState state;
    state.src = link_tag(form, "src");
    state.ref = link_tag(form, "ref");
    for (const char* field : {"name", "phone", "email", "birthday", "consent"}) {
        if (auto it = form.find(field); it != form.end()) {
            state.values[field] = it->second.substr(0, 300);
        }
    }
    if (!csrf_ok(ctx, rc, form, program->slug)) {
        state.errors["form"] = "session_expired";
        co_return join_page(ctx, rc, *program, http::status::forbidden, state);
    }
    const Applicant applicant = validate(*program, state);
    if (!state.errors.empty()) {
        co_return join_page(ctx, rc, *program, http::status::unprocessable_entity, state);
    }
    const bool verifies = program->enrollment.verification.channel != domain::VerifyChannel::off;
    if (verifies) {
        if (ctx.codes == nullptr || ctx.secrets == nullptr) {
            co_return error_page(http::status::service_unavailable, page_lang(*program),
                                 "unavailable", rc.request.version());
        }
        const std::string no_replace;
        co_return co_await async_send_code(ctx, rc, *program, applicant, no_replace);
    }
    // Unverified: a contact already on file cannot prove it is the same person, so it
    // gets neither that card nor a second one.
    const ProgramId id = program->id;
    const std::string phone = applicant.holder.phone;
    const std::string email = applicant.holder.email;
    auto taken = co_await ctx.db.run([&](storage::Store& s) -> std::string {
        if (!phone.empty() && s.find_card_by_contact(id, storage::ContactKind::phone, phone)) {
            return "phone";
        }
        if (!email.empty() && s.find_card_by_contact(id, storage::ContactKind::email, email)) {
            return "email";
        }
        return {};
    });
    if (!taken.empty()) {
        state.errors[taken] = "already_enrolled";
        co_return join_page(ctx, rc, *program, http::status::conflict, state);
    }
    co_return co_await async_issue(ctx, rc, *program, applicant, false);
}

net::awaitable<Response> handle_join_verify(ApiContext& ctx, RequestContext& rc) {
    const std::string& slug = rc.param("slug");
    auto program = co_await ctx.db.run([&](storage::Store& s) { return s.find_program(slug); });
    if (!program) {
        co_return not_found_page(rc);
    }
    if (!is_form_post(rc)) {
        co_return form_type_error(rc);
    }
    auto form = http_server::parse_form(rc.request.body());
    FormState restart;  // the join form again, when the code step cannot go on
    if (!csrf_ok(ctx, rc, form, program->slug)) {
        restart.errors["form"] = "session_expired";
        co_return join_page(ctx, rc, *program, http::status::forbidden, restart);
    }
    if (program->enrollment.verification.channel == domain::VerifyChannel::off ||
        ctx.codes == nullptr || ctx.secrets == nullptr) {
        restart.errors["form"] = "verification_gone";
        co_return join_page(ctx, rc, *program, http::status::gone, restart);
    }
    const std::string pending = form.contains("pending") ? form.at("pending") : std::string();
    auto found =
        co_await ctx.db.run([&](storage::Store& s) { return s.find_verification(pending); });
    if (pending.empty() || pending.size() > 64 || !found || found->program != program->id ||
        found->state != "pending") {
        restart.errors["form"] = "verification_gone";
        co_return join_page(ctx, rc, *program, http::status::gone, restart);
    }
    if (form.contains("resend")) {
        auto applicant = applicant_from_json(found->form_json);
        if (!applicant) {
            co_return join_page(ctx, rc, *program, http::status::gone, restart);
        }
        co_return co_await async_send_code(ctx, rc, *program, *applicant, found->id);
    }
    CodeStep step;
    step.pending_id = found->id;
    step.destination = found->destination;
    const std::string code = form.contains("code") ? form.at("code") : std::string();
    if (!enroll::is_code_format(code)) {
        step.errors["code"] = "code_format";
        co_return verify_page(ctx, rc, *program, http::status::unprocessable_entity, step);
    }
    const std::string hash =
        enroll::code_hash(ctx.secrets->derive("verification-code"), found->id, code);
    const int max_attempts = ctx.max_code_attempts;
    const std::int64_t now = now_unix_millis();
    const ProgramId id = program->id;
    auto checked = co_await ctx.db.run(
        [&](storage::Store& s) { return s.check_code(pending, id, hash, max_attempts, now); });
    using Status = storage::CodeCheckOutcome::Status;
    switch (checked.status) {
        case Status::ok:
            co_return co_await async_finish(ctx, rc, *program, *checked.verification);
        case Status::wrong:
            step.errors["code"] = "code_wrong";
            co_return verify_page(ctx, rc, *program, http::status::unprocessable_entity, step);
        case Status::expired:
            step.errors["code"] = "code_expired";
            co_return verify_page(ctx, rc, *program, http::status::gone, step);
        case Status::too_many:
            step.errors["code"] = "too_many_attempts";
            co_return verify_page(ctx, rc, *program, http::status::too_many_requests, step);
        case Status::gone:
            break;
    }
    restart.errors["form"] = "verification_gone";
    co_return join_page(ctx, rc, *program, http::status::gone, restart);
}

}  // namespace cardsmith::api
