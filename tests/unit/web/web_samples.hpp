#pragma once
// Sample page models and parser-free HTML probes shared by the web module's tests.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "web/pages.hpp"

namespace cardsmith::web::test {

inline bool has(const std::string& html, std::string_view needle) {
    return html.find(needle) != std::string::npos;
}

// The whole start tag that carries `marker` (e.g. name="phone"), or "" if none.
inline std::string tag_with(const std::string& html, std::string_view marker) {
    const auto at = html.find(marker);
    if (at == std::string::npos) {
        return {};
    }
    const auto start = html.rfind('<', at);
    const auto end = html.find('>', at);
    return html.substr(start, end - start + 1);
}

inline const std::string kQr =
    R"(<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 29 29" shape-rendering="crispEdges">)"
    R"(<rect width="29" height="29" fill="#ffffff"/><path fill="#000000" d="M4 4h7v7h-7z"/></svg>)";

inline ProgramLook sample_look() {
    return {.name = "Bean There",
            .description = "Every 10th coffee is on us",
            .organization = "Bean There GmbH",
            .colors = {.background = "#3B2418", .foreground = "#FFFFFF", .label = "#E8C39E"},
            .logo_url = "/images/bean-there/logo.png"};
}

inline JoinPage sample_join() {
    JoinPage page;
    page.look = sample_look();
    page.form = {.name = FieldMode::required,
                 .phone = FieldMode::optional,
                 .email = FieldMode::off,
                 .birthday = FieldMode::required,
                 .terms_url = "https://bean-there.example/terms"};
    page.action = "/join/bean-there";
    page.csrf_token = "csrf-token-123";
    page.style_nonce = "n0nce";
    page.src = "poster";
    page.ref = "R3F";
    return page;
}

inline VerifyPage sample_verify() {
    return {.lang = "en",
            .look = sample_look(),
            .action = "/join/bean-there/verify",
            .csrf_token = "csrf-token-123",
            .style_nonce = "n0nce",
            .destination_masked = "+49151…78",
            .errors = {},
            .pending_id = "p-42",
            .notice = ""};
}

inline CardPage sample_card() {
    CardPage page;
    page.look = sample_look();
    page.style_nonce = "n0nce";
    page.holder_name = "Anna";
    page.card_number = "5204187394055128";
    page.tier = "Gold";
    page.offer = "Free cake on Fridays";
    page.balance = 1250;
    page.qr_svg = kQr;
    page.pkpass_url = "https://cards.example.com/p/Qm9f.pkpass";
    page.google_save_url = "https://pay.google.com/gp/v/save/eyJ";
    page.invite_url = "https://cards.example.com/join/bean-there?ref=R3F";
    return page;
}

inline PosterPage sample_poster() {
    return {.lang = "en",
            .look = sample_look(),
            .style_nonce = "n0nce",
            .qr_svg = kQr,
            .join_url = "https://cards.example.com/join/bean-there?src=poster"};
}

inline std::vector<std::string> every_page(std::string_view lang) {
    JoinPage join = sample_join();
    join.lang = lang;
    join.errors = {{"phone", "invalid_phone"}, {"consent", "consent_required"}};
    join.values = {{"name", "Anna"}, {"phone", "0151"}};
    join.notice = "Too many attempts, try again in 5 minutes";
    VerifyPage verify = sample_verify();
    verify.lang = lang;
    verify.errors = {{"code", "code_wrong"}};
    CardPage card = sample_card();
    card.lang = lang;
    card.restored = true;
    PosterPage poster = sample_poster();
    poster.lang = lang;
    return {render_join(join), render_verify(verify), render_card(card), render_poster(poster),
            render_error_page(lang, 404, "program_not_found")};
}

}  // namespace cardsmith::web::test
