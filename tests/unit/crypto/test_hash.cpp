#include <boost/test/unit_test.hpp>
#include <string>

#include "crypto/base64.hpp"
#include "crypto/hash.hpp"

namespace cc = cardsmith::crypto;

namespace {

std::string hex(const std::array<unsigned char, 32>& bytes) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char b : bytes) {
        out += kHex[b >> 4];
        out += kHex[b & 0x0F];
    }
    return out;
}

const std::string kTwoBlocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

}  // namespace

BOOST_AUTO_TEST_SUITE(hash)

BOOST_AUTO_TEST_CASE(sha1_known_answers) {
    BOOST_TEST(cc::sha1_hex("") == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    BOOST_TEST(cc::sha1_hex("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d");
    BOOST_TEST(cc::sha1_hex(kTwoBlocks) == "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    BOOST_TEST(cc::sha1_hex(std::string(1000000, 'a')) ==
               "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

BOOST_AUTO_TEST_CASE(sha1_hashes_embedded_nul_bytes) {
    const std::string with_nul("a\0b", 3);
    BOOST_TEST(cc::sha1_hex(with_nul) != cc::sha1_hex("a"));
    BOOST_TEST(cc::sha1_hex(with_nul).size() == 40U);
}

BOOST_AUTO_TEST_CASE(sha256_known_answers) {
    BOOST_TEST(cc::sha256_hex("") ==
               "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    BOOST_TEST(cc::sha256_hex("abc") ==
               "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    BOOST_TEST(cc::sha256_hex(kTwoBlocks) ==
               "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

BOOST_AUTO_TEST_CASE(sha256_bytes_match_hex) {
    BOOST_TEST(hex(cc::sha256("abc")) == cc::sha256_hex("abc"));
    BOOST_TEST(hex(cc::sha256(kTwoBlocks)) == cc::sha256_hex(kTwoBlocks));
}

// RFC 4231 test cases 1, 2 and 6.
BOOST_AUTO_TEST_CASE(hmac_sha256_rfc4231) {
    BOOST_TEST(cc::hmac_sha256_hex(std::string(20, '\x0b'), "Hi There") ==
               "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    BOOST_TEST(cc::hmac_sha256_hex("Jefe", "what do ya want for nothing?") ==
               "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    BOOST_TEST(cc::hmac_sha256_hex(std::string(131, '\xaa'),
                                   "Test Using Larger Than Block-Size Key - Hash Key First") ==
               "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

BOOST_AUTO_TEST_CASE(hmac_sha256_empty_key_and_data) {
    BOOST_TEST(cc::hmac_sha256_hex("", "") ==
               "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
    BOOST_TEST(cc::hmac_sha256_hex("k", "data") != cc::hmac_sha256_hex("K", "data"));
}

BOOST_AUTO_TEST_CASE(constant_time_equal_cases) {
    BOOST_TEST(cc::constant_time_equal("", ""));
    BOOST_TEST(cc::constant_time_equal("secret-token", "secret-token"));
    BOOST_TEST(!cc::constant_time_equal("secret-token", "secret-tokeN"));
    BOOST_TEST(!cc::constant_time_equal("secret-token", "Secret-token"));
    BOOST_TEST(!cc::constant_time_equal("secret-token", "secret-token2"));
    BOOST_TEST(!cc::constant_time_equal("secret-token", "secret"));
    BOOST_TEST(!cc::constant_time_equal("", "a"));
    BOOST_TEST(!cc::constant_time_equal("a", ""));
    BOOST_TEST(!cc::constant_time_equal(std::string("a\0b", 3), std::string("a\0c", 3)));
    BOOST_TEST(cc::constant_time_equal(std::string("a\0b", 3), std::string("a\0b", 3)));
    BOOST_TEST(!cc::constant_time_equal(std::string("a\0b", 3), "a"));
}

// RFC 4648 §10's vectors, standard alphabet with padding; bytes beyond ASCII use + and /.
BOOST_AUTO_TEST_CASE(base64_encode_pads_with_the_standard_alphabet) {
    BOOST_TEST(cc::base64_encode("") == "");
    BOOST_TEST(cc::base64_encode("f") == "Zg==");
    BOOST_TEST(cc::base64_encode("fo") == "Zm8=");
    BOOST_TEST(cc::base64_encode("foobar") == "Zm9vYmFy");
    BOOST_TEST(cc::base64_encode(std::string("\xfb\xff\xbf", 3)) == "+/+/");
    BOOST_TEST(cc::base64_encode(std::string("a\0b", 3)) == "YQBi");
}

BOOST_AUTO_TEST_SUITE_END()
