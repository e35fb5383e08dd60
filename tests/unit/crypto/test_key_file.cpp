// Secret files (key_file.hpp): the permission rule, the one-line refusal, encrypted PEM keys
// with a passphrase, and the server key's rotation files (secret_box.hpp).
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "crypto/crypto_error.hpp"
#include "crypto/key_file.hpp"
#include "crypto/openssl_ptr.hpp"
#include "crypto/pem.hpp"
#include "crypto/secret_box.hpp"
#include "dev_pki.hpp"
#include "temp_dir.hpp"

namespace cc = cardsmith::crypto;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& path, const std::string& text, mode_t mode) {
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out << text;
        BOOST_REQUIRE(out);
    }
    BOOST_REQUIRE(::chmod(path.c_str(), mode) == 0);
}

std::string read(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

template <typename F>
std::string error_of(F fn) {
    try {
        fn();
    } catch (const cc::CryptoError& e) {
        return e.what();
    }
    return "no error";
}

bool contains(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

const fs::path& pki() { return cardsmith::test::DevPki::shared().dir.path(); }

// The dev pass key as PKCS#8 encrypted with AES-256-CBC under `passphrase`, by OpenSSL.
std::string encrypted_pass_key(const std::string& passphrase) {
    const cc::EvpPkeyPtr key = cc::load_private_key_file(pki() / "pass.key");
    const cc::BioPtr bio(BIO_new(BIO_s_mem()));
    BOOST_REQUIRE(
        PEM_write_bio_PKCS8PrivateKey(bio.get(), key.get(), EVP_aes_256_cbc(), passphrase.data(),
                                      static_cast<int>(passphrase.size()), nullptr, nullptr) == 1);
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return {data, static_cast<std::size_t>(len)};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(key_file)

BOOST_AUTO_TEST_CASE(permission_rule) {
    using cc::open_permissions_problem;
    constexpr uid_t kUser = 1000;
    BOOST_TEST(open_permissions_problem(0100600, kUser, kUser).empty());
    BOOST_TEST(open_permissions_problem(0100400, kUser, kUser).empty());
    BOOST_TEST(open_permissions_problem(0100700, kUser, kUser).empty());
    BOOST_TEST(open_permissions_problem(0100644, kUser, kUser) ==
               "readable by group or others (mode 0644)");
    BOOST_TEST(open_permissions_problem(0100604, kUser, kUser) ==
               "readable by group or others (mode 0604)");
    BOOST_TEST(open_permissions_problem(0100620, kUser, kUser) ==
               "writable by group or others (mode 0620)");
    BOOST_TEST(open_permissions_problem(0100666, kUser, kUser) ==
               "readable and writable by group or others (mode 0666)");
    BOOST_TEST(!open_permissions_problem(0100610, kUser, kUser).empty());
    // Root's file that the service's group may read (PostgreSQL's rule for its key file)...
    BOOST_TEST(open_permissions_problem(0100640, 0, kUser).empty());
    BOOST_TEST(open_permissions_problem(0100440, 0, kUser).empty());
    // ...but not one others may read, one the group may write, or one of another user's.
    BOOST_TEST(!open_permissions_problem(0100644, 0, kUser).empty());
    BOOST_TEST(!open_permissions_problem(0100660, 0, kUser).empty());
    BOOST_TEST(!open_permissions_problem(0100640, kUser, kUser).empty());
    // Running as root there is no reason for a group to read it.
    BOOST_TEST(!open_permissions_problem(0100640, 0, 0).empty());
}

BOOST_AUTO_TEST_CASE(open_files_are_refused_in_one_line_naming_the_fix) {
    const cardsmith::test::TempDir dir;
    const fs::path file = dir.path() / "pass.key";
    const std::string pem = read(pki() / "pass.key");
    write(file, pem, 0644);
    const std::string what = error_of([&] { (void)cc::load_private_key_file(file); });
    BOOST_TEST(what == file.string() + ": readable by group or others (mode 0644); run chmod 600 " +
                           file.string());
    BOOST_TEST(!contains(what, "PRIVATE KEY"));
    write(file, pem, 0660);
    BOOST_TEST(contains(error_of([&] { (void)cc::load_private_key_file(file); }), "mode 0660"));
    for (const mode_t ok : {mode_t{0600}, mode_t{0400}}) {
        write(file, pem, ok);
        BOOST_TEST(cc::load_private_key_file(file) != nullptr);
    }
    BOOST_TEST(contains(error_of([&] { (void)cc::read_secret_file(dir.path() / "none", 10); }),
                        "cannot open"));
    BOOST_TEST(!cc::read_secret_file(dir.path() / "none", 10, true).has_value());
    BOOST_TEST(contains(error_of([&] { (void)cc::read_secret_file(dir.path(), 10); }),
                        "not a regular file"));
    write(file, std::string(11, 'x'), 0600);
    BOOST_TEST(contains(error_of([&] { (void)cc::read_secret_file(file, 10); }), "larger than"));
}

BOOST_AUTO_TEST_CASE(encrypted_pkcs8_keys_open_with_their_passphrase) {
    const cardsmith::test::TempDir dir;
    const fs::path file = dir.path() / "pass.key";
    write(file, encrypted_pass_key("correct horse"), 0600);
    BOOST_TEST(contains(read(file), "-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    BOOST_TEST(cc::is_encrypted_private_key_pem(read(file)));
    BOOST_TEST(!cc::is_encrypted_private_key_pem(read(pki() / "pass.key")));

    const cc::EvpPkeyPtr key = cc::load_private_key_file(file, "correct horse");
    const cc::EvpPkeyPtr plain = cc::load_private_key_file(pki() / "pass.key");
    BOOST_TEST(EVP_PKEY_eq(key.get(), plain.get()) == 1);

    const std::string none = error_of([&] { (void)cc::load_private_key_file(file); });
    BOOST_TEST(contains(none, "encrypted and no passphrase is set"), none);
    const std::string wrong = error_of([&] { (void)cc::load_private_key_file(file, "wrong"); });
    BOOST_TEST(contains(wrong, "passphrase does not decrypt"), wrong);
    BOOST_TEST(!contains(wrong, "wrong"));
    // A passphrase given for a plain key does no harm.
    BOOST_TEST(cc::load_private_key_file(pki() / "pass.key", "unused") != nullptr);
}

BOOST_AUTO_TEST_CASE(passphrase_files_are_secret_files_without_their_newline) {
    const cardsmith::test::TempDir dir;
    const fs::path file = dir.path() / "passphrase";
    write(file, "correct horse\r\n", 0600);
    BOOST_TEST(cc::read_passphrase_file(file) == "correct horse");
    write(file, "correct horse\n", 0400);
    BOOST_TEST(cc::read_passphrase_file(file) == "correct horse");
    write(file, "correct horse\n", 0644);
    BOOST_TEST(contains(error_of([&] { (void)cc::read_passphrase_file(file); }), "chmod 600"));
    write(file, "\n", 0600);
    BOOST_TEST(contains(error_of([&] { (void)cc::read_passphrase_file(file); }), "1 to 1023"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(secret_box_rotation)

BOOST_AUTO_TEST_CASE(an_open_server_key_file_is_refused) {
    const cardsmith::test::TempDir dir;
    const fs::path file = dir.path() / "secret.key";
    write(file, std::string(64, 'a') + "\n", 0644);
    const std::string what = error_of([&] { (void)cc::SecretBox::from_file(file, true); });
    BOOST_TEST(contains(what, "chmod 600 " + file.string()), what);
    BOOST_TEST(!contains(what, std::string(16, 'a')));
    write(file, std::string(64, 'a') + "\n", 0400);
    BOOST_TEST(cc::SecretBox::from_file(file, false).key_id().size() == 8U);
    // The previous key's file is held to the same rule.
    write(fs::path(file.string() + ".old"), std::string(64, 'b') + "\n", 0640);
    BOOST_TEST(
        contains(error_of([&] { (void)cc::SecretBox::from_file(file, false); }), "secret.key.old"));
}

BOOST_AUTO_TEST_CASE(previous_keys_open_and_only_the_current_one_seals) {
    const cc::SecretBox old_box(std::string(32, 'o'));
    const cc::SecretBox new_box(std::string(32, 'n'), {std::string(32, 'o')});
    const std::string under_old = old_box.seal("relay key", "relay-keys:1");
    BOOST_TEST(new_box.open(under_old, "relay-keys:1").value() == "relay key");
    BOOST_TEST(!new_box.sealed_with_current_key(under_old, "relay-keys:1"));
    const std::string under_new = new_box.seal("relay key", "relay-keys:1");
    BOOST_TEST(new_box.sealed_with_current_key(under_new, "relay-keys:1"));
    BOOST_TEST(!old_box.open(under_new, "relay-keys:1").has_value());
    BOOST_TEST(new_box.key_id() == cc::SecretBox(std::string(32, 'n')).key_id());
    BOOST_TEST(new_box.derive("csrf") == cc::SecretBox(std::string(32, 'n')).derive("csrf"));
    const auto all = new_box.derive_all("csrf");
    BOOST_TEST(all.size() == 2U);
    BOOST_TEST(all[0] == new_box.derive("csrf"));
    BOOST_TEST(all[1] == old_box.derive("csrf"));

    const cc::SecretBox ring = cc::SecretBox::generate().with_previous(new_box);
    BOOST_TEST(ring.open(under_old, "relay-keys:1").value() == "relay key");
    BOOST_TEST(ring.open(under_new, "relay-keys:1").value() == "relay key");
    BOOST_TEST(!ring.sealed_with_current_key(under_new, "relay-keys:1"));
}

BOOST_AUTO_TEST_CASE(a_box_from_a_file_follows_a_rotation_by_another_process) {
    const cardsmith::test::TempDir dir;
    const fs::path file = dir.path() / "secret.key";
    const cc::SecretBox running = cc::SecretBox::from_file(file, true);
    BOOST_TEST(!running.reload().changed);
    const std::string before = running.seal("webhook secret", "merchant-webhook:1");

    // What `cardsmith secret-key rotate` does to the files.
    const cc::SecretBox current = cc::SecretBox::from_file(file, false);
    const cc::SecretBox next = cc::SecretBox::generate();
    current.save(fs::path(file.string() + ".old"));
    next.save(file, 0400);
    struct stat st {};
    BOOST_REQUIRE(::stat(file.c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0400U);
    BOOST_REQUIRE(::stat((file.string() + ".old").c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0600U);
    BOOST_TEST(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator{}) == 2);

    // A value sealed under the new key opens in the running box: it reloads on the miss.
    const std::string after = next.seal("webhook secret", "merchant-webhook:1");
    BOOST_TEST(running.open(after, "merchant-webhook:1").value() == "webhook secret");
    BOOST_TEST(running.key_id() == next.key_id());
    BOOST_TEST(!running.reload().changed);
    // What it sealed before still opens, and so does it for a fresh reader of the files.
    BOOST_TEST(running.open(before, "merchant-webhook:1").value() == "webhook secret");
    const cc::SecretBox fresh = cc::SecretBox::from_file(file, false);
    BOOST_TEST(fresh.open(before, "merchant-webhook:1").value() == "webhook secret");
    BOOST_TEST(fresh.key_id() == next.key_id());

    // reload() notices the next rotation without a miss; a broken file keeps the keys.
    const cc::SecretBox third = cc::SecretBox::generate();
    third.save(file);
    const auto r = running.reload();
    BOOST_TEST(r.changed);
    BOOST_TEST(r.error.empty());
    BOOST_TEST(running.key_id() == third.key_id());
    write(file, "garbage\n", 0600);
    const auto broken = running.reload();
    BOOST_TEST(!broken.changed);
    BOOST_TEST(contains(broken.error, "malformed"), broken.error);
    BOOST_TEST(running.key_id() == third.key_id());
}

BOOST_AUTO_TEST_SUITE_END()
