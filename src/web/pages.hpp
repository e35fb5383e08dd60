#pragma once
// The customer-facing enrollment pages (issue 4): join form, code entry, card page, printable
// poster and error pages, rendered as complete HTML5 documents. Pure functions, data in and
// HTML out; thread-safe. The HTTP handlers own CSRF, verification, storage and headers.
//
// Every page: <!doctype html>, <html lang>, UTF-8, a phone viewport, the shared stylesheet
// (assets.hpp) and no JavaScript, no inline style attributes and no event-handler attributes,
// so a Content-Security-Policy with `script-src 'none'` and `style-src 'self' 'nonce-…'`
// holds. Per-program colours go in one <style nonce="…"> element in the head. Every
// customer- or merchant-supplied string is escaped; merchant URLs other than http(s) or
// relative ones are dropped.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "web/i18n.hpp"

namespace cardsmith::web {

enum class FieldMode {
    off,       // not asked
    optional,  // asked, may stay empty
    required,  // asked, must be filled (the input gets the `required` attribute)
};

// "#RRGGBB" each (validated by the caller; a malformed one is replaced by the default).
struct Colors {
    std::string background = "#ffffff", foreground = "#000000", label = "#666666";
};

// How a program looks on its pages, as on its pass.
struct ProgramLook {
    std::string name, description, organization;
    Colors colors;
    std::string logo_url;  // may be empty
};

// Which fields the join form asks.
struct JoinForm {
    FieldMode name = FieldMode::required, phone = FieldMode::optional, email = FieldMode::optional,
              birthday = FieldMode::off;
    std::string terms_url;  // the required consent checkbox links here (no link if empty)
};

// GET/POST /join/{slug}. Form fields posted: name, phone, email, birthday (YYYY-MM-DD),
// consent ("on"), csrf, and src / ref when set.
struct JoinPage {
    std::string lang = "en";  // "en" or "ru"
    ProgramLook look;
    JoinForm form;
    std::string action;                         // form action URL (POST)
    std::string csrf_token;                     // hidden input "csrf"
    std::string style_nonce;                    // nonce attribute of the colours' <style> element
    std::map<std::string, std::string> values;  // typed values kept after an error
    // field → message key ("required", "invalid_phone"...), translated as "error.<key>";
    // keys of fields the form does not show (e.g. "form") go to the summary at the top.
    std::map<std::string, std::string> errors;
    std::string src, ref;  // hidden inputs carried along (channel tag, referral code)
    std::string notice;    // optional banner text, already in the page's language
};

// The code-entry step when verification is on. Posts: code, csrf, pending; the resend
// button adds resend=1 (and skips the browser's check of the code field).
struct VerifyPage {
    std::string lang = "en";
    ProgramLook look;
    std::string action, csrf_token, style_nonce;
    std::string destination_masked;             // "+49151…78"
    std::map<std::string, std::string> errors;  // "code" → key; others go to the summary
    std::string pending_id;                     // hidden input "pending"
    std::string notice;                         // optional banner, in the page's language
};

enum class Platform {
    ios,      // Apple Wallet first
    android,  // Google Wallet first (when configured), the .pkpass file for other wallet apps
    other,    // both
};

// The card page (links.page).
struct CardPage {
    std::string lang = "en";
    ProgramLook look;
    std::string style_nonce;
    std::string holder_name, card_number, tier, offer;
    std::int64_t balance = 0;
    std::string qr_svg;  // inline SVG of the card-number QR from the qr module: embedded as is
    std::string pkpass_url, google_save_url;  // google empty = not configured
    Platform platform = Platform::other;
    std::string invite_url;  // "Invite a friend" link; empty = referrals off
    bool restored = false;   // "Welcome back: this is your card" banner
};

enum class PaperSize { a4, a5 };

// The printable poster /join/{slug}/poster: program name, big QR, three steps, the URL.
struct PosterPage {
    std::string lang = "en";
    ProgramLook look;
    std::string style_nonce;
    std::string qr_svg;  // inline SVG of the join URL from the qr module: embedded as is
    std::string join_url;
    PaperSize paper = PaperSize::a4;
};

[[nodiscard]] std::string render_join(const JoinPage& page);
[[nodiscard]] std::string render_verify(const VerifyPage& page);
[[nodiscard]] std::string render_card(const CardPage& page);
[[nodiscard]] std::string render_poster(const PosterPage& page);
// A page for an HTTP error: the status's title and the message "error.<message_key>"
// (e.g. 404 with "program_not_found"); an unknown key is shown as is. Default colours.
[[nodiscard]] std::string render_error_page(std::string_view lang, int status,
                                            std::string_view message_key);

// iPhone/iPad/iPod, or Macintosh with "Mobile" → ios; Android, HarmonyOS/OpenHarmony or
// Huawei → android; anything else → other.
[[nodiscard]] Platform platform_from_user_agent(std::string_view user_agent);

// "1,250 points" / "1 250 баллов" (declared in i18n.hpp):
// std::string format_points(std::string_view lang, std::int64_t n);

}  // namespace cardsmith::web
