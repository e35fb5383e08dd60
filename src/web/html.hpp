#pragma once
// HTML escaping and a tiny well-formedness-checking builder for the enrollment pages (HTML
// Living Standard, section 13 "The HTML syntax"). Pure; a builder is a value used by one thread.
//
// The builder is also where the pages' Content-Security-Policy promise is kept: it refuses,
// as a bug, `<script>`, `style=` and `on*=` (inline code and inline styles), so a renderer
// cannot emit them by accident.
#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace cardsmith::web {

// Escapes text content (between tags, not inside <script>/<style>): & < >.
[[nodiscard]] std::string escape_text(std::string_view text);
// Escapes an attribute value for use inside double or single quotes: & < > " '.
[[nodiscard]] std::string escape_attr(std::string_view value);
// The same, appended to `out`.
void append_text(std::string& out, std::string_view text);
void append_attr(std::string& out, std::string_view value);

// Whether a merchant-supplied URL may be put in href/src: http(s) absolute, protocol-relative
// or relative, and free of whitespace and control characters. Refuses `javascript:`,
// `data:`, `vbscript:` and every other scheme.
[[nodiscard]] bool is_safe_url(std::string_view url);

// One attribute. `{"name", "value"}` renders name="value" (value escaped); `Attr::flag`
// renders a bare boolean attribute; `Attr::if_set` renders only when the value is not empty.
struct Attr {
    constexpr Attr(std::string_view n, std::string_view v) : name(n), value(v) {}

    [[nodiscard]] static constexpr Attr flag(std::string_view n, bool on = true) {
        Attr a{n, {}};
        a.boolean = true;
        a.skip = !on;
        return a;
    }
    [[nodiscard]] static constexpr Attr if_set(std::string_view n, std::string_view v) {
        Attr a{n, v};
        a.skip = v.empty();
        return a;
    }

    std::string_view name;
    std::string_view value;
    bool boolean = false;
    bool skip = false;
};

// Appends markup to one string, escaping every text and attribute value; tracks open elements
// and aborts (a bug) on a mismatched close, an unclosed element at finish(), a forbidden tag
// or attribute, or a malformed name.
class Html {
public:
    explicit Html(std::size_t reserve = 8192);

    Html& open(std::string_view tag, std::initializer_list<Attr> attrs = {});
    Html& close(std::string_view tag);
    // A void element (meta, link, input, img): no content, no close tag.
    Html& leaf(std::string_view tag, std::initializer_list<Attr> attrs = {});
    // open + escaped text + close.
    Html& element(std::string_view tag, std::initializer_list<Attr> attrs, std::string_view text);
    Html& text(std::string_view text);
    // Trusted markup appended as is (our own stylesheet, our own QR SVG).
    Html& raw(std::string_view markup);
    // A message template with one "{}" placeholder: the text around it escaped, the
    // placeholder replaced by `inner` escaped and wrapped in `tag` (e.g. <strong>).
    Html& text_with(std::string_view message, std::string_view tag, std::string_view inner);

    [[nodiscard]] std::string finish() &&;

private:
    void start_tag(std::string_view tag, std::initializer_list<Attr> attrs);

    std::string out_;
    std::vector<std::string> open_;
};

}  // namespace cardsmith::web
