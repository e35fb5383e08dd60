#include "pkpass_reader.hpp"

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
#include <zip.h>

#include <memory>
#include <stdexcept>

namespace cardsmith::test {

std::map<std::string, std::string> unzip(const std::string& bytes) {
    zip_error_t err;
    zip_error_init(&err);
    zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &err);
    if (src == nullptr) throw std::runtime_error("zip source");
    zip_t* za = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &err);
    if (za == nullptr) {
        zip_source_free(src);
        throw std::runtime_error(std::string("not a zip: ") + zip_error_strerror(&err));
    }
    std::map<std::string, std::string> out;
    auto n = zip_get_num_entries(za, 0);
    for (zip_int64_t i = 0; i < n; ++i) {
        auto idx = static_cast<zip_uint64_t>(i);
        zip_stat_t st;
        zip_stat_index(za, idx, 0, &st);
        std::string data(static_cast<std::size_t>(st.size), '\0');
        zip_file_t* f = zip_fopen_index(za, idx, 0);
        if (f == nullptr) throw std::runtime_error("zip entry");
        auto got = zip_fread(f, data.data(), st.size);
        zip_fclose(f);
        if (got != static_cast<zip_int64_t>(st.size)) throw std::runtime_error("short read");
        out.emplace(st.name, std::move(data));
    }
    zip_discard(za);
    return out;
}

SignatureCheck verify_signature(const std::string& der, const std::string& manifest,
                                const std::string& root_pem_file) {
    SignatureCheck r;
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    std::unique_ptr<CMS_ContentInfo, decltype(&CMS_ContentInfo_free)> cms(
        d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())), CMS_ContentInfo_free);
    if (!cms) {
        r.error = "not DER CMS";
        return r;
    }
    std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(),
                                                                  X509_STORE_free);
    if (X509_STORE_load_file(store.get(), root_pem_file.c_str()) != 1) {
        r.error = "cannot load root";
        return r;
    }
    X509_VERIFY_PARAM* param = X509_STORE_get0_param(store.get());
    X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_ANY);
    std::unique_ptr<BIO, decltype(&BIO_free)> content(
        BIO_new_mem_buf(manifest.data(), static_cast<int>(manifest.size())), BIO_free);
    r.verified =
        CMS_verify(cms.get(), nullptr, store.get(), content.get(), nullptr, CMS_BINARY) == 1;
    if (!r.verified) {
        char buf[256];
        ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
        r.error = buf;
        ERR_clear_error();
    }
    STACK_OF(X509)* certs = CMS_get1_certs(cms.get());
    r.certificates = certs ? sk_X509_num(certs) : 0;
    STACK_OF(CMS_SignerInfo)* infos = CMS_get0_SignerInfos(cms.get());
    if (infos != nullptr && sk_CMS_SignerInfo_num(infos) == 1) {
        CMS_SignerInfo* si = sk_CMS_SignerInfo_value(infos, 0);
        r.has_signing_time = CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1) >= 0;
        X509* signer = nullptr;
        CMS_SignerInfo_get0_algs(si, nullptr, &signer, nullptr, nullptr);
        if (signer == nullptr && certs != nullptr) {
            for (int i = 0; i < sk_X509_num(certs); ++i) {
                if (CMS_SignerInfo_cert_cmp(si, sk_X509_value(certs, i)) == 0) {
                    signer = sk_X509_value(certs, i);
                }
            }
        }
        if (signer != nullptr) {
            char name[512];
            X509_NAME_oneline(X509_get_subject_name(signer), name, sizeof name);
            r.signer_subject = name;
            for (int i = 0; certs != nullptr && i < sk_X509_num(certs); ++i) {
                X509* c = sk_X509_value(certs, i);
                if (c != signer && X509_check_issued(c, signer) == X509_V_OK) {
                    r.carries_issuer_of_signer = true;
                }
            }
        }
    }
    if (certs != nullptr) sk_X509_pop_free(certs, X509_free);
    return r;
}

}  // namespace cardsmith::test
