#include "web/assets.hpp"

#include <array>
#include <cstdint>

namespace cardsmith::web {
namespace {

// Mobile first: one column up to 30rem, touch targets of at least 48px, system fonts only.
constexpr std::string_view kCss = R"css(/* Cardsmith enrollment pages */
:root{--brand-bg:#ffffff;--brand-fg:#000000;--brand-label:#666666;
--page:#eef0f3;--surface:#ffffff;--text:#14171c;--muted:#5a6170;--line:#c3c8d1;
--danger:#b42318;--danger-bg:#fef3f2;--warn:#93370d;--warn-bg:#fffaeb;--ok:#05603a;
--ok-bg:#ecfdf3;--focus:#1d4ed8;--radius:16px}
@media screen and (prefers-color-scheme:dark){:root{color-scheme:dark;--page:#0e1014;
--surface:#1a1d23;--text:#f2f4f7;--muted:#a4abb8;--line:#414754;--danger:#fda29b;
--danger-bg:#3a1614;--warn:#fec84b;--warn-bg:#3a2a0a;--ok:#75e0a7;--ok-bg:#0c2b1c;
--focus:#84adff}}
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:var(--page);color:var(--text);
font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
a{color:inherit;text-underline-offset:.15em}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
.wrap{max-width:30rem;margin:0 auto;padding:0 0 2.5rem}
.brand{background:var(--brand-bg);color:var(--brand-fg);padding:1.75rem 1.25rem 1.5rem;
text-align:center}
.brand-logo{display:block;max-width:60%;max-height:64px;margin:0 auto .9rem;object-fit:contain}
.brand h1{margin:0;font-size:1.6rem;line-height:1.2;overflow-wrap:anywhere}
.brand-desc{margin:.5rem 0 0;color:var(--brand-label);overflow-wrap:anywhere}
.panel{background:var(--surface);padding:1.5rem 1.25rem}
.panel h2{margin:0 0 .35rem;font-size:1.3rem;line-height:1.25}
.lead{margin:0 0 1.25rem;color:var(--muted)}
@media (min-width:32rem){.wrap{padding-top:2rem}
.brand{border-radius:var(--radius) var(--radius) 0 0}
.panel{border-radius:0 0 var(--radius) var(--radius);box-shadow:0 1px 3px rgba(0,0,0,.08)}}
.notice{margin:0;padding:.9rem 1.25rem;background:var(--warn-bg);color:var(--warn);
border-left:4px solid currentColor;font-weight:600}
.notice-ok{background:var(--ok-bg);color:var(--ok)}
.alert{margin:0 0 1.25rem;padding:.8rem 1rem;border-radius:10px;background:var(--danger-bg);
color:var(--danger);font-weight:600}
.alert p{margin:0}
.alert p+p{margin-top:.35rem}
.field{margin:0 0 1.25rem}
.field>label{display:block;margin:0 0 .35rem;font-weight:600}
.opt{font-weight:400;color:var(--muted)}
.hint{margin:-.15rem 0 .4rem;font-size:.9rem;color:var(--muted)}
.err{margin:.4rem 0 0;font-size:.95rem;font-weight:600;color:var(--danger)}
input[type=text],input[type=tel],input[type=email],input[type=date]{display:block;width:100%;
min-height:3.25rem;margin:0;padding:.7rem .9rem;border:1.5px solid var(--line);
border-radius:12px;background:var(--surface);color:var(--text);font:inherit;font-size:1.125rem;
-webkit-appearance:none;appearance:none}
input[type=date]{line-height:1.75rem}
input::placeholder{color:var(--muted);opacity:.8}
.field-error input{border-color:var(--danger);border-width:2px}
input[type=text].code{font-size:1.75rem;letter-spacing:.4em;text-align:center;
font-variant-numeric:tabular-nums}
.consent{display:flex;gap:.85rem;align-items:flex-start;padding:.9rem 1rem;
border:1.5px solid var(--line);border-radius:12px}
.consent.field-error{border-color:var(--danger);border-width:2px}
.consent input{flex:none;width:1.5rem;height:1.5rem;margin:.05rem 0 0;accent-color:var(--text)}
.consent-text{flex:1}
.consent label{display:block;font-weight:400}
.consent a{display:inline-block;margin-top:.35rem;padding:.2rem 0;font-weight:600}
.btn{display:flex;align-items:center;justify-content:center;gap:.7rem;width:100%;
min-height:3.5rem;margin:0;padding:.7rem 1.1rem;border:0;border-radius:999px;font:inherit;
font-size:1.0625rem;font-weight:700;line-height:1.2;text-align:center;text-decoration:none;
cursor:pointer;-webkit-appearance:none;appearance:none}
.btn+.btn,.btn+.fine+.btn{margin-top:.85rem}
.btn-primary{background:var(--brand-bg);color:var(--brand-fg);
box-shadow:inset 0 0 0 1.5px rgba(127,127,127,.35)}
.btn-secondary{background:transparent;color:var(--text);box-shadow:inset 0 0 0 1.5px var(--line)}
.btn-apple{background:#000;color:#fff;min-height:3.75rem}
.btn-google{background:#fff;color:#1f1f1f;box-shadow:inset 0 0 0 1.5px #747775}
.btn-file{background:transparent;color:var(--text);box-shadow:inset 0 0 0 1.5px var(--line)}
@media screen and (prefers-color-scheme:dark){.btn-apple{
box-shadow:inset 0 0 0 1.5px rgba(255,255,255,.55)}}
.wallet-glyph{flex:none;width:2rem;height:1.6rem}
.btn-lines{display:flex;flex-direction:column;align-items:flex-start;text-align:left}
.btn-small{font-size:.75rem;font-weight:500;letter-spacing:.01em}
.btn-big{font-size:1.3rem;font-weight:600;letter-spacing:-.01em}
.fine{margin:.85rem 0 0;font-size:.875rem;color:var(--muted);text-align:center}
.foot{margin:1.25rem 1.25rem 0;font-size:.8rem;color:var(--muted);text-align:center}
.page-card .wrap{padding-top:1rem}
.page-card .notice{margin:0 1rem 1rem;border-radius:10px}
.pass{margin:0 1rem 1.5rem;padding:1rem 1.1rem 1.25rem;border-radius:var(--radius);
background:var(--brand-bg);color:var(--brand-fg);box-shadow:0 12px 32px rgba(0,0,0,.22),
0 0 0 1px rgba(127,127,127,.2)}
.pass-head{display:flex;align-items:center;gap:.75rem;min-height:2.5rem}
.pass-logo{max-width:45%;max-height:2.5rem;object-fit:contain}
.pass-name{flex:1;margin:0;font-size:1.35rem;font-weight:600;line-height:1.2;
overflow-wrap:anywhere}
.pass-label{display:block;color:var(--brand-label);font-size:.7rem;font-weight:600;
letter-spacing:.06em;text-transform:uppercase}
.pass-balance{margin:1.4rem 0 1.1rem}
.pass-points{font-size:3.25rem;font-weight:300;line-height:1.05;
font-variant-numeric:tabular-nums}
.pass-unit{margin-left:.35rem;font-size:1.1rem}
.pass-fields{display:flex;flex-wrap:wrap;justify-content:space-between;gap:.75rem 1.5rem}
.pass-fields .pass-field:last-child:not(:first-child){text-align:right}
.pass-value{display:block;font-size:1.05rem;overflow-wrap:anywhere}
.pass-offer{margin-top:.9rem}
.pass-qr{width:min(15rem,78%);margin:1.4rem auto 0;padding:.6rem .6rem .5rem;
border-radius:12px;background:#fff;color:#000;text-align:center}
.qr svg{display:block;width:100%;height:auto}
.pass-number{display:block;margin-top:.3rem;white-space:nowrap;letter-spacing:.06em;
font:600 1rem/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.wallet{padding:0 1rem}
.till{margin:0 1rem 1.25rem;text-align:center;font-weight:600}
.invite,.private{margin:1.75rem 1rem 0;padding:1rem 1.1rem;border-radius:12px;
background:var(--surface)}
.invite h2{margin:0 0 .25rem;font-size:1.1rem}
.invite p,.private{margin-top:0;margin-bottom:0;color:var(--muted);font-size:.9rem}
.private{margin-top:1rem}
.invite-link{display:block;margin-top:.5rem;padding:.6rem .8rem;border-radius:10px;
background:var(--page);color:var(--text);font-weight:600;overflow-wrap:anywhere}
.page-error .panel{padding:2.5rem 1.25rem;text-align:center}
.page-error h1{margin:0 0 .5rem;font-size:1.4rem}
.error-status{margin:0;font-size:3rem;font-weight:200;color:var(--muted)}
@page{size:A4 portrait;margin:0}
@page a5{size:A5 portrait;margin:0}
.page-poster{background:#d5d9df;color:#111}
.poster{--u:1mm;display:flex;flex-direction:column;align-items:center;width:calc(210*var(--u));
height:calc(296*var(--u));margin:0 auto;overflow:hidden;background:#fff;color:#111;
text-align:center;-webkit-print-color-adjust:exact;print-color-adjust:exact}
.poster-a5{--u:.7048mm;page:a5}
@media screen{.poster,.poster-a5{--u:min(1mm,calc((100vw - 2rem)/210));margin:1rem auto;
box-shadow:0 4px 24px rgba(0,0,0,.25)}}
.poster-band{width:100%;padding:calc(16*var(--u)) calc(14*var(--u)) calc(12*var(--u));
background:var(--brand-bg);color:var(--brand-fg)}
.poster-logo{display:block;max-width:50%;height:calc(20*var(--u));margin:0 auto calc(6*var(--u));
object-fit:contain}
.poster-name{margin:0;font-size:calc(15*var(--u));line-height:1.1;overflow-wrap:anywhere}
.poster-title{margin:calc(3*var(--u)) 0 0;font-size:calc(8*var(--u));color:var(--brand-label)}
.poster-qr{width:calc(105*var(--u));margin:calc(12*var(--u)) auto calc(8*var(--u))}
.steps{display:flex;gap:calc(6*var(--u));margin:0;padding:0 calc(12*var(--u));list-style:none}
.step{flex:1;font-size:calc(5.5*var(--u));line-height:1.25}
.step-n{display:flex;align-items:center;justify-content:center;width:calc(13*var(--u));
height:calc(13*var(--u));margin:0 auto calc(3*var(--u));border-radius:50%;
background:var(--brand-bg);color:var(--brand-fg);font-size:calc(7*var(--u));font-weight:700;
box-shadow:0 0 0 calc(.4*var(--u)) rgba(0,0,0,.25)}
.step strong{display:block;font-size:calc(6.5*var(--u))}
.step-hint{display:block;color:#555;font-size:calc(4.5*var(--u))}
.poster-url{margin:auto 0 calc(14*var(--u));padding:0 calc(12*var(--u));font-size:calc(5*var(--u));
color:#333;overflow-wrap:anywhere}
.poster-url strong{color:#111}
.screen-only{margin:0 1rem 1rem;text-align:center;font-size:.9rem;color:#333}
@media print{.page-poster{background:#fff}.poster,.poster-a5{margin:0;box-shadow:none}
.screen-only{display:none}}
)css";

constexpr std::uint64_t fnv1a64(std::string_view text) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (char c : text) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ULL;
    }
    return h;
}

constexpr std::array<char, 16> hex16(std::uint64_t v) {
    std::array<char, 16> out{};
    for (std::size_t i = 0; i < out.size(); ++i) {
        out[out.size() - 1 - i] = "0123456789abcdef"[v & 0xfU];
        v >>= 4U;
    }
    return out;
}

constexpr std::array<char, 16> kVersion = hex16(fnv1a64(kCss));

}  // namespace

std::string_view stylesheet() { return kCss; }

std::string_view stylesheet_version() { return {kVersion.data(), kVersion.size()}; }

std::string stylesheet_url() {
    std::string url{kStylesheetPath};
    url += "?v=";
    url += stylesheet_version();
    return url;
}

}  // namespace cardsmith::web
