// The log line formats: text (key=value) and JSON (one object per line), escaping and the
// redaction safety net.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>

#include "common/log.hpp"

namespace cardsmith::log {
namespace {

const auto kTime = std::chrono::system_clock::time_point(std::chrono::milliseconds(1767323045678));

boost::json::object parse_line(const std::string& line) {
    BOOST_REQUIRE(!line.empty());
    BOOST_REQUIRE(line.back() == '\n');
    BOOST_REQUIRE(line.find('\n') == line.size() - 1);  // one event, one line
    return boost::json::parse(line).as_object();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(log_format)

BOOST_AUTO_TEST_CASE(text_is_the_default_and_unchanged) {
    BOOST_TEST((format() == Format::text));
    const auto line = format_line(Format::text, kTime, Level::warn, "push: giving up",
                                  {{"token", "abcd1234"}, {"last", "503 Service Unavailable"}});
    BOOST_TEST(line ==
               "2026-01-02T03:04:05.678Z warn push: giving up token=abcd1234 "
               "last=\"503 Service Unavailable\"\n");
}

BOOST_AUTO_TEST_CASE(json_has_ts_level_msg_and_the_fields) {
    const auto o = parse_line(format_line(Format::json, kTime, Level::info, "listening",
                                          {{"address", "127.0.0.1"}, {"port", "8080"}}));
    BOOST_TEST(o.at("ts").as_string() == "2026-01-02T03:04:05.678Z");
    BOOST_TEST(o.at("level").as_string() == "info");
    BOOST_TEST(o.at("msg").as_string() == "listening");
    BOOST_TEST(o.at("address").as_string() == "127.0.0.1");
    BOOST_TEST(o.at("port").as_string() == "8080");
    BOOST_TEST(o.size() == 5u);
    // Field order is kept: ts, level, msg first.
    const auto line = format_line(Format::json, kTime, Level::error, "x", {{"a", "1"}, {"b", "2"}});
    BOOST_TEST(line ==
               "{\"ts\":\"2026-01-02T03:04:05.678Z\",\"level\":\"error\",\"msg\":\"x\","
               "\"a\":\"1\",\"b\":\"2\"}\n");
}

BOOST_AUTO_TEST_CASE(json_escapes_quotes_backslashes_and_control_characters) {
    const std::string nasty = "say \"hi\"\\ \n\r\t\x01\x1f\x7f end";
    const auto line = format_line(Format::json, kTime, Level::info, nasty, {{"error", nasty}});
    BOOST_TEST(line.find("\\\"hi\\\"\\\\ \\n\\r\\t\\u0001\\u001f\\u007f end") != std::string::npos);
    const auto o = parse_line(line);
    BOOST_TEST(o.at("msg").as_string() == nasty);
    BOOST_TEST(o.at("error").as_string() == nasty);
}

BOOST_AUTO_TEST_CASE(json_keeps_utf8_and_replaces_invalid_bytes) {
    const std::string good = "Caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80";  // Café € 😀
    auto o = parse_line(format_line(Format::json, kTime, Level::info, good, {}));
    BOOST_TEST(o.at("msg").as_string() == good);
    // A lone continuation byte, a truncated sequence, an overlong '/', a surrogate.
    const std::string bad =
        "a\x80"
        "b\xE2\x82"
        "c\xC0\xAF"
        "d\xED\xA0\x80"
        "e";
    const auto line = format_line(Format::json, kTime, Level::info, "m", {{"v", bad}});
    o = parse_line(line);  // Boost.JSON rejects invalid UTF-8: this parsing is the check
    const std::string v(o.at("v").as_string());
    BOOST_TEST(v.find("a\xEF\xBF\xBD"
                      "b") == 0u);
    BOOST_TEST(v.back() == 'e');
    BOOST_TEST(v.find('\x80') == std::string::npos);
}

BOOST_AUTO_TEST_CASE(reserved_field_names_do_not_clash) {
    const auto o = parse_line(
        format_line(Format::json, kTime, Level::info, "real", {{"msg", "field"}, {"ts", "1"}}));
    BOOST_TEST(o.at("msg").as_string() == "real");
    BOOST_TEST(o.at("_msg").as_string() == "field");
    BOOST_TEST(o.at("_ts").as_string() == "1");
}

BOOST_AUTO_TEST_CASE(fields_named_like_secrets_are_redacted_in_both_formats) {
    for (auto f : {Format::text, Format::json}) {
        const auto line = format_line(f, kTime, Level::info, "m",
                                      {{"Authorization", "Bearer csk_live_1"},
                                       {"db_password", "hunter2"},
                                       {"client_secret", "s3cr3t"},
                                       {"api_key", "csk_2"},
                                       {"token", "abcd"}});
        BOOST_TEST(line.find("csk_live_1") == std::string::npos);
        BOOST_TEST(line.find("hunter2") == std::string::npos);
        BOOST_TEST(line.find("s3cr3t") == std::string::npos);
        BOOST_TEST(line.find("csk_2") == std::string::npos);
        BOOST_TEST(line.find("[redacted]") != std::string::npos);
        BOOST_TEST(line.find("abcd") != std::string::npos);  // a push token prefix is fine
    }
}

BOOST_AUTO_TEST_CASE(parse_format_names) {
    Format f = Format::text;
    BOOST_TEST(parse_format("json", f));
    BOOST_TEST((f == Format::json));
    BOOST_TEST(parse_format("text", f));
    BOOST_TEST((f == Format::text));
    BOOST_TEST(!parse_format("JSON", f));
    BOOST_TEST(!parse_format("", f));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace cardsmith::log
