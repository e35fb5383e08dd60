#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <set>

#include "apple/passkit/package.hpp"
#include "crypto/hash.hpp"
#include "dev_pki.hpp"
#include "pkpass_reader.hpp"

using namespace cardsmith;
namespace json = boost::json;

namespace {
std::map<std::string, std::string> images() {
    // Byte content is opaque to the package builder; distinct bytes per file.
    return {{"icon", std::string("\x89PNG icon 1x", 12)},
            {"icon@2x", std::string("\x89PNG icon 2x\0\xff", 14)},
            {"icon@3x", std::string(5000, 'x')},
            {"logo", "logo bytes"},
            {"strip@2x", std::string(100000, '\x7f')}};
}
}  // namespace

BOOST_AUTO_TEST_SUITE(package)

BOOST_AUTO_TEST_CASE(manifest_lists_every_file_with_sha1) {
    auto assets = passkit::prepare_design_assets(images());
    std::string pass_json = R"({"formatVersion":1})";
    auto manifest = json::parse(passkit::build_manifest(assets, pass_json)).as_object();
    BOOST_TEST(manifest.size() == 6u);
    BOOST_TEST(manifest.at("pass.json").as_string() == crypto::sha1_hex(pass_json));
    BOOST_TEST(manifest.at("icon@2x.png").as_string() == crypto::sha1_hex(images()["icon@2x"]));
    for (const auto& [k, v] : manifest) {
        BOOST_TEST(v.as_string().size() == 40u);
        BOOST_TEST(v.as_string().find_first_not_of("0123456789abcdef") == std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(pkpass_zip_holds_exactly_the_pass_files) {
    auto& pki = test::DevPki::shared();
    auto assets = passkit::prepare_design_assets(images());
    std::string pass_json = R"({"formatVersion":1,"serialNumber":"s"})";
    auto pkpass = passkit::build_pkpass(assets, pass_json, *pki.signer);
    auto files = test::unzip(pkpass);
    std::set<std::string> names;
    for (const auto& [n, _] : files) names.insert(n);
    std::set<std::string> want{"pass.json",   "manifest.json", "signature", "icon.png",
                               "icon@2x.png", "icon@3x.png",   "logo.png",  "strip@2x.png"};
    BOOST_TEST(names == want);
    BOOST_TEST(files["pass.json"] == pass_json);
    BOOST_TEST(files["strip@2x.png"] == images()["strip@2x"]);
    BOOST_TEST(files["icon@2x.png"] == images()["icon@2x"]);
    // The manifest in the zip hashes the exact bytes in the zip.
    auto manifest = json::parse(files["manifest.json"]).as_object();
    for (const auto& [name, bytes] : files) {
        if (name == "manifest.json" || name == "signature") continue;
        BOOST_TEST(manifest.at(name).as_string() == crypto::sha1_hex(bytes), name);
    }
}

BOOST_AUTO_TEST_CASE(signature_verifies_against_the_dev_root) {
    auto& pki = test::DevPki::shared();
    auto assets = passkit::prepare_design_assets(images());
    auto pkpass = passkit::build_pkpass(assets, R"({"a":1})", *pki.signer);
    auto files = test::unzip(pkpass);
    auto check = test::verify_signature(files["signature"], files["manifest.json"], pki.root());
    BOOST_TEST(check.verified, check.error);
    BOOST_TEST(check.has_signing_time);
    BOOST_TEST(check.carries_issuer_of_signer);  // the WWDR stand-in rides along
    BOOST_TEST(check.signer_subject.find("Pass Type ID: pass.dev.cardsmith") != std::string::npos);
    // A changed manifest must not verify.
    auto bad = test::verify_signature(files["signature"], files["manifest.json"] + " ", pki.root());
    BOOST_TEST(!bad.verified);
}

BOOST_AUTO_TEST_CASE(same_assets_many_passes) {
    auto& pki = test::DevPki::shared();
    auto assets = passkit::prepare_design_assets(images());
    for (int i = 0; i < 20; ++i) {
        std::string pj = R"({"serialNumber":")" + std::to_string(i) + "\"}";
        auto files = test::unzip(passkit::build_pkpass(assets, pj, *pki.signer));
        BOOST_TEST(files["pass.json"] == pj);
        BOOST_TEST(files.size() == 8u);
    }
}

BOOST_AUTO_TEST_SUITE_END()
