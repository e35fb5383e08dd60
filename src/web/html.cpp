#include "web/html.hpp"

#include <algorithm>
#include <utility>

#include "common/check.hpp"

namespace cardsmith::web {
namespace {

bool is_lower_name(std::string_view name) {
    if (name.empty() || name.front() < 'a' || name.front() > 'z') {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    });
}

// The CSP promise (see the header): no inline script, no inline style, no event handlers.
bool is_allowed_attribute(std::string_view name) {
    return is_lower_name(name) && name != "style" && !name.starts_with("on");
}

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Text needs & < > escaped; attribute values also both quotes.
template <bool kQuotes>
void append_escaped_impl(std::string& out, std::string_view text) {
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += kQuotes ? "&quot;" : "\"";
                break;
            case '\'':
                out += kQuotes ? "&#39;" : "'";
                break;
            default:
                out += c;
        }
    }
}

}  // namespace

void append_text(std::string& out, std::string_view text) { append_escaped_impl<false>(out, text); }

void append_attr(std::string& out, std::string_view value) {
    append_escaped_impl<true>(out, value);
}

std::string escape_text(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    append_text(out, text);
    return out;
}

std::string escape_attr(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    append_attr(out, value);
    return out;
}

bool is_safe_url(std::string_view url) {
    if (url.empty()) {
        return false;
    }
    // Browsers strip tabs and newlines inside a scheme ("java\tscript:"); refuse them all.
    if (std::any_of(url.begin(), url.end(),
                    [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; })) {
        return false;
    }
    const auto end = url.find_first_of(":/?#");
    if (end == std::string_view::npos || url[end] != ':') {
        return true;  // relative: no scheme
    }
    std::string scheme;
    for (char c : url.substr(0, end)) {
        scheme += ascii_lower(c);
    }
    return scheme == "http" || scheme == "https";
}

Html::Html(std::size_t reserve) { out_.reserve(reserve); }

void Html::start_tag(std::string_view tag, std::initializer_list<Attr> attrs) {
    CARDSMITH_CHECK(is_lower_name(tag) && tag != "script");
    out_ += '<';
    out_ += tag;
    for (const Attr& a : attrs) {
        if (a.skip) {
            continue;
        }
        CARDSMITH_CHECK(is_allowed_attribute(a.name));
        out_ += ' ';
        out_ += a.name;
        if (!a.boolean) {
            out_ += "=\"";
            append_attr(out_, a.value);
            out_ += '"';
        }
    }
    out_ += '>';
}

Html& Html::open(std::string_view tag, std::initializer_list<Attr> attrs) {
    start_tag(tag, attrs);
    open_.emplace_back(tag);
    return *this;
}

Html& Html::close(std::string_view tag) {
    CARDSMITH_CHECK(!open_.empty() && open_.back() == tag);
    open_.pop_back();
    out_ += "</";
    out_ += tag;
    out_ += '>';
    return *this;
}

Html& Html::leaf(std::string_view tag, std::initializer_list<Attr> attrs) {
    start_tag(tag, attrs);
    return *this;
}

Html& Html::element(std::string_view tag, std::initializer_list<Attr> attrs,
                    std::string_view content) {
    open(tag, attrs);
    append_text(out_, content);
    return close(tag);
}

Html& Html::text(std::string_view content) {
    append_text(out_, content);
    return *this;
}

Html& Html::raw(std::string_view markup) {
    out_ += markup;
    return *this;
}

Html& Html::text_with(std::string_view message, std::string_view tag, std::string_view inner) {
    const auto at = message.find("{}");
    if (at == std::string_view::npos) {
        return text(message);
    }
    text(message.substr(0, at));
    element(tag, {}, inner);
    return text(message.substr(at + 2));
}

std::string Html::finish() && {
    CARDSMITH_CHECK(open_.empty());
    return std::move(out_);
}

}  // namespace cardsmith::web
