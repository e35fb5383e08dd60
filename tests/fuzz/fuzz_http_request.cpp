// Fuzz target: the HTTP request path. The input is what one client sends on one
// connection: requests one after another (keep-alive), read as http::detail::Session reads
// them (Beast's request parser under the server's header limit, the target parsed as
// origin-form, the route's body limit), routed through the server's real route table (the
// merchant API, the pages and Apple's web service, as `app` builds it), then taken apart
// by the handlers' own helpers: query and form parsing, path ids, JSON bodies, the card and
// transaction bodies, cookies and CSRF, dates, the client address and the wallet kind.
// The handlers themselves (storage, signing) do not run. The first input byte sets how
// many bytes each socket read returns, so requests also arrive split in small pieces.
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/url/parse.hpp>
#include <limits>

#include "api/handlers.hpp"
#include "api/join_forms.hpp"
#include "api/page_views.hpp"
#include "api/request_bodies.hpp"
#include "api/request_helpers.hpp"
#include "api/routes.hpp"
#include "apple/web_service/web_service.hpp"
#include "common/time_format.hpp"
#include "domain/card_number.hpp"
#include "domain/images.hpp"
#include "fuzz_support.hpp"
#include "http/query.hpp"
#include "http/server.hpp"

namespace cardsmith::fuzz {
namespace {

using Parser = http::request_parser<http::string_body>;

// The route table with contexts whose services are never called (no handler runs).
struct World {
    net::io_context ioc;
    storage::Database db{nullptr, 1};
    passkit::Identities identities{nullptr};
    passkit::PassService passes{identities, ioc.get_executor(), {}, 1024 * 1024};
    http_server::Metrics metrics;
    api::ApiContext api{db,
                        passes,
                        metrics,
                        {},
                        "http://127.0.0.1:8080",
                        {},
                        false,
                        {},
                        {},
                        {},
                        nullptr,
                        {},
                        {},
                        {},
                        nullptr,
                        {},
                        5,
                        true,
                        nullptr,
                        nullptr,
                        {},
                        {},
                        4 * 1024 * 1024};
    web_service::WebServiceContext wallet{db, passes, metrics, {}, {"push.passwallet.net"}};
    http_server::Router router;
    http_server::ServerOptions options;  // the server's default limits

    World() {
        api::register_routes(router, api);
        // Added by app next to the API's routes (it needs app's relay-key reload).
        router.add(http::verb::put, "/api/v1/identities/{id}/relay-keys",
                   [this](http_server::RequestContext& rc) {
                       return api::handle_set_identity_relay_keys(api, rc, {});
                   });
        web_service::register_routes(router, wallet);
    }
};

World& world() {
    static World w;
    return w;
}

// What the handlers make of a request that reached them.
void take_apart(World& w, http_server::Request& req, http_server::Router::Match& match) {
    http_server::RequestContext rc{
        req, std::move(match.params), "fuzz", {}, http_server::parse_query(req.target())};
    for (const auto& [name, value] : rc.params) {
        if (auto id = api::path_id(rc, name); !id) {
            (void)api::fail(id.error(), req);
        } else {
            FUZZ_EXPECT(*id > 0);
        }
        (void)domain::is_valid_card_number(value);
        (void)domain::is_image_name(value);
    }
    for (const auto& [name, value] : rc.query) {
        auto n = api::query_int(rc, name, 0, 500, 50);
        FUZZ_EXPECT(!n || (*n >= 0 && *n <= 500) || value.empty());
        (void)api::is_link_tag(value);
    }
    (void)api::link_tag(rc.query, "src");
    (void)api::client_address(w.api, rc);
    if (auto since = parse_http_date(req[http::field::if_modified_since])) {
        (void)format_http_date(*since);
    }
    const std::string_view auth = req[http::field::authorization];
    (void)web_service::wallet_kind(false, auth.substr(0, auth.find(' ')), req["X-Pass-Client"],
                                   req.body());
    if (req.method() != http::verb::post && req.method() != http::verb::put &&
        req.method() != http::verb::patch) {
        return;
    }
    auto form = http_server::parse_form(req.body());
    (void)api::link_tag(form, "ref");
    (void)api::csrf_ok(w.api, rc, form, "bean-there");
    auto body = api::parse_json_object(req);
    if (!body) {
        (void)api::fail(body.error(), req);
        return;
    }
    for (const auto& [key, value] : *body) {
        (void)api::get_string(*body, key);
        (void)api::get_int(*body, key);
    }
    if (match.route.ends_with("/cards")) {
        auto card = api::parse_new_card(*body);
        if (!card) {
            (void)api::fail(card.error(), req);
        }
    } else if (match.route.ends_with("/transactions")) {
        auto t = api::parse_transaction(*body, coffee_design().earn_rule);
        if (!t) {
            (void)api::fail(t.error(), req);
        } else {
            FUZZ_EXPECT(t->points != 0);
        }
    }
}

// One request as Session::serve_one reads it; false when the connection would end.
bool serve_one(World& w, beast::test::stream& stream, beast::flat_buffer& buffer) {
    Parser parser;
    parser.header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(w.options.header_limit, std::numeric_limits<std::uint32_t>::max())));
    parser.body_limit(boost::none);
    error_code ec;
    http::read_header(stream, buffer, parser, ec);
    if (ec) {
        return false;
    }
    const auto& header = parser.get();
    auto target = boost::urls::parse_origin_form(header.target());
    if (!target) {
        return false;  // 400 and close
    }
    auto match = w.router.match(header.method(), target->encoded_path());
    FUZZ_EXPECT((match.handler != nullptr) == (match.status == http::status::ok));
    FUZZ_EXPECT(match.status != http::status::method_not_allowed || !match.allow.empty());
    const std::size_t limit = match.body_limit != 0 ? match.body_limit : w.options.body_limit;
    if (auto length = parser.content_length(); length && *length > limit) {
        return false;  // 413 and close
    }
    parser.body_limit(static_cast<std::uint64_t>(limit));
    http::read(stream, buffer, parser, ec);
    if (ec) {
        return false;
    }
    http_server::Request req = parser.release();
    FUZZ_EXPECT(req.body().size() <= limit);
    const bool keep_alive = req.keep_alive();
    if (match.handler != nullptr) {
        take_apart(w, req, match);
    }
    return keep_alive;
}

}  // namespace
}  // namespace cardsmith::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace cardsmith;
    if (size == 0) {
        return 0;
    }
    auto& w = fuzz::world();
    const std::size_t read_size = data[0] < 32 ? std::size_t{data[0]} + 1 : 4096;
    beast::test::stream stream(w.ioc, fuzz::text_of(data + 1, size - 1));
    stream.read_size(read_size);
    stream.close_remote();  // the client has sent everything: end of input reads as EOF
    beast::flat_buffer buffer;
    for (int i = 0; i < 16 && fuzz::serve_one(w, stream, buffer); ++i) {
    }
    return 0;
}
