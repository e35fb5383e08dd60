// render_join: the enrollment form of GET/POST /join/{slug} (issue 4, item 1).
#include <array>
#include <string>
#include <vector>

#include "web/html.hpp"
#include "web/i18n.hpp"
#include "web/page_layout.hpp"
#include "web/pages.hpp"

namespace cardsmith::web {
namespace {

// One text input of the form; empty strings leave the attribute out.
struct InputSpec {
    FieldMode JoinForm::*mode;  // where the program says whether it is asked
    std::string_view name;      // form field name, also the key in values/errors
    std::string_view label_key;
    std::string_view hint_key;
    std::string_view type;
    std::string_view inputmode;
    std::string_view autocomplete;
    std::string_view autocapitalize;
    std::string_view spellcheck;
    std::string_view maxlength;
};

constexpr InputSpec kName{.mode = &JoinForm::name,
                          .name = "name",
                          .label_key = "field.name",
                          .hint_key = "",
                          .type = "text",
                          .inputmode = "",
                          .autocomplete = "name",
                          .autocapitalize = "words",
                          .spellcheck = "",
                          .maxlength = "100"};
constexpr InputSpec kPhone{.mode = &JoinForm::phone,
                           .name = "phone",
                           .label_key = "field.phone",
                           .hint_key = "field.phone_hint",
                           .type = "tel",
                           .inputmode = "tel",
                           .autocomplete = "tel",
                           .autocapitalize = "",
                           .spellcheck = "",
                           .maxlength = "32"};
constexpr InputSpec kEmail{.mode = &JoinForm::email,
                           .name = "email",
                           .label_key = "field.email",
                           .hint_key = "",
                           .type = "email",
                           .inputmode = "email",
                           .autocomplete = "email",
                           .autocapitalize = "off",
                           .spellcheck = "false",
                           .maxlength = "254"};
constexpr InputSpec kBirthday{.mode = &JoinForm::birthday,
                              .name = "birthday",
                              .label_key = "field.birthday",
                              .hint_key = "",
                              .type = "date",
                              .inputmode = "",
                              .autocomplete = "bday",
                              .autocapitalize = "",
                              .spellcheck = "",
                              .maxlength = ""};
constexpr std::array kInputs{&kName, &kPhone, &kEmail, &kBirthday};

void input_field(Html& html, const JoinPage& page, Lang lang, const InputSpec& spec) {
    const FieldMode mode = page.form.*spec.mode;
    if (mode == FieldMode::off) {
        return;
    }
    const std::string id = "f-" + std::string{spec.name};
    const std::string hint_id = spec.hint_key.empty() ? std::string{} : id + "-hint";
    const std::string_view error_key = lookup(page.errors, spec.name);
    const std::string error_id = error_key.empty() ? std::string{} : id + "-err";
    std::string described_by = hint_id;
    if (!error_id.empty()) {
        described_by += described_by.empty() ? error_id : " " + error_id;
    }

    html.open("div", {{"class", error_key.empty() ? "field" : "field field-error"}});
    html.open("label", {{"for", id}}).text(message(lang, spec.label_key));
    if (mode == FieldMode::optional) {
        html.text(" ").element("span", {{"class", "opt"}}, message(lang, "field.optional"));
    }
    html.close("label");
    if (!hint_id.empty()) {
        html.element("p", {{"class", "hint"}, {"id", hint_id}}, message(lang, spec.hint_key));
    }
    html.leaf("input", {{"id", id},
                        {"name", spec.name},
                        {"type", spec.type},
                        Attr::if_set("inputmode", spec.inputmode),
                        {"autocomplete", spec.autocomplete},
                        Attr::if_set("autocapitalize", spec.autocapitalize),
                        Attr::if_set("spellcheck", spec.spellcheck),
                        Attr::if_set("maxlength", spec.maxlength),
                        Attr::if_set("value", lookup(page.values, spec.name)),
                        Attr::flag("required", mode == FieldMode::required),
                        Attr::if_set("aria-invalid", error_key.empty() ? "" : "true"),
                        Attr::if_set("aria-describedby", described_by)});
    if (!error_key.empty()) {
        html.element("p", {{"class", "err"}, {"id", error_id}}, error_message(lang, error_key));
    }
    html.close("div");
}

void consent_field(Html& html, const JoinPage& page, Lang lang) {
    const std::string_view error_key = lookup(page.errors, "consent");
    const bool has_error = !error_key.empty();
    html.open("div", {{"class", has_error ? "field consent field-error" : "field consent"}});
    html.leaf("input", {{"id", "f-consent"},
                        {"name", "consent"},
                        {"type", "checkbox"},
                        {"value", "on"},
                        Attr::flag("checked", lookup(page.values, "consent") == "on"),
                        Attr::flag("required"),
                        Attr::if_set("aria-invalid", has_error ? "true" : ""),
                        Attr::if_set("aria-describedby", has_error ? "f-consent-err" : "")});
    html.open("div", {{"class", "consent-text"}});
    html.element("label", {{"for", "f-consent"}}, message(lang, "join.consent"));
    if (is_safe_url(page.form.terms_url)) {
        html.element(
            "a",
            {{"href", page.form.terms_url}, {"target", "_blank"}, {"rel", "noopener noreferrer"}},
            message(lang, "join.terms"));
    }
    if (has_error) {
        html.element("p", {{"class", "err"}, {"id", "f-consent-err"}},
                     error_message(lang, error_key));
    }
    html.close("div").close("div");
}

}  // namespace

std::string render_join(const JoinPage& page) {
    const Lang lang = parse_lang(page.lang);
    const std::string title = page_title(lang, "join.title", page.look);
    Html html;
    begin_page(html, {.lang = lang,
                      .title = title,
                      .body_class = "page-join",
                      .look = &page.look,
                      .style_nonce = page.style_nonce,
                      .is_private = false});
    html.open("main", {{"class", "wrap"}});
    brand_header(html, page.look);
    if (!page.notice.empty()) {
        html.element("p", {{"class", "notice"}, {"role", "status"}}, page.notice);
    }
    html.open("div", {{"class", "panel"}});
    html.element("p", {{"class", "lead"}}, message(lang, "join.intro"));
    std::vector<std::string_view> shown;
    for (const InputSpec* spec : kInputs) {
        if (page.form.*spec->mode != FieldMode::off) {
            shown.push_back(spec->name);
        }
    }
    shown.emplace_back("consent");
    error_summary(html, lang, page.errors, shown, "join.error_summary");
    html.open("form", {{"method", "post"}, {"action", page.action}});
    hidden(html, "csrf", page.csrf_token);
    hidden(html, "src", page.src);
    hidden(html, "ref", page.ref);
    for (const InputSpec* spec : kInputs) {
        input_field(html, page, lang, *spec);
    }
    consent_field(html, page, lang);
    html.element("button", {{"class", "btn btn-primary"}, {"type", "submit"}},
                 message(lang, "join.submit"));
    html.element("p", {{"class", "fine"}}, message(lang, "join.fine_print"));
    html.close("form").close("div");
    if (!page.look.organization.empty()) {
        html.element("p", {{"class", "foot"}}, page.look.organization);
    }
    html.close("main");
    end_page(html);
    return std::move(html).finish();
}

}  // namespace cardsmith::web
