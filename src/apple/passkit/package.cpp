#include "apple/passkit/package.hpp"

#include <zip.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "crypto/hash.hpp"
#include "domain/images.hpp"

namespace cardsmith::passkit {
namespace {

struct ZipSourceFree {
    void operator()(zip_source_t* s) const noexcept { zip_source_free(s); }
};
using ZipSourcePtr = std::unique_ptr<zip_source_t, ZipSourceFree>;
struct ZipDiscard {
    void operator()(zip_t* z) const noexcept { zip_discard(z); }
};
using ZipPtr = std::unique_ptr<zip_t, ZipDiscard>;

[[noreturn]] void zip_fail(std::string_view what, zip_error_t* err) {
    std::string msg = "libzip: " + std::string(what);
    if (err != nullptr) {
        msg += ": ";
        msg += zip_error_strerror(err);
    }
    throw std::runtime_error(msg);
}

// An archive whose backing store is a memory buffer we can read back after zip_close.
class MemoryZip {
public:
    explicit MemoryZip(std::string_view initial) {
        zip_error_t err;
        zip_error_init(&err);
        // libzip gets its own malloc'd copy (freep = 1): when it appends to an archive it
        // clones the input buffer's fragments for the output, and with a borrowed buffer
        // (freep = 0) libzip 1.7 may free memory it does not own.
        void* copy = nullptr;
        if (!initial.empty()) {
            copy = std::malloc(initial.size());
            if (copy == nullptr) {
                throw std::bad_alloc();
            }
            std::memcpy(copy, initial.data(), initial.size());
        }
        source_.reset(zip_source_buffer_create(copy, initial.size(), 1, &err));
        if (!source_) {
            std::free(copy);
            zip_fail("buffer source", &err);
        }
        zip_t* za = zip_open_from_source(source_.get(), initial.empty() ? ZIP_TRUNCATE : 0, &err);
        if (za == nullptr) {
            zip_fail("open", &err);
        }
        zip_source_keep(source_.get());  // survives zip_close so we can read it
        zip_.reset(za);
    }

    // `data` must stay alive until finish().
    void add(const std::string& name, std::string_view data, bool compress) {
        zip_source_t* s = zip_source_buffer(zip_.get(), data.data(), data.size(), 0);
        if (s == nullptr) {
            zip_fail("source", zip_get_error(zip_.get()));
        }
        zip_int64_t idx = zip_file_add(zip_.get(), name.c_str(), s, ZIP_FL_ENC_UTF_8);
        if (idx < 0) {
            zip_source_free(s);
            zip_fail("add " + name, zip_get_error(zip_.get()));
        }
        auto index = static_cast<zip_uint64_t>(idx);
        if (zip_set_file_compression(zip_.get(), index, compress ? ZIP_CM_DEFLATE : ZIP_CM_STORE,
                                     compress ? 6 : 0) != 0) {
            zip_fail("compression", zip_get_error(zip_.get()));
        }
    }

    std::string finish() {
        if (zip_close(zip_.get()) != 0) {
            zip_fail("close", zip_get_error(zip_.get()));
        }
        (void)zip_.release();  // zip_close freed it
        zip_source_t* s = source_.get();
        if (zip_source_open(s) != 0) {
            zip_fail("reopen", zip_source_error(s));
        }
        std::string out;
        if (zip_source_seek(s, 0, SEEK_END) == 0) {
            zip_int64_t size = zip_source_tell(s);
            if (size > 0 && zip_source_seek(s, 0, SEEK_SET) == 0) {
                out.resize(static_cast<std::size_t>(size));
                if (zip_source_read(s, out.data(), static_cast<zip_uint64_t>(size)) != size) {
                    zip_source_close(s);
                    zip_fail("read back", zip_source_error(s));
                }
            }
        }
        zip_source_close(s);
        return out;
    }

private:
    ZipSourcePtr source_;
    ZipPtr zip_;
};

}  // namespace

DesignAssets prepare_design_assets(const std::map<std::string, std::string>& images) {
    DesignAssets a;
    MemoryZip zip("");
    for (const auto& [name, bytes] : images) {
        std::string file = domain::image_file_name(name);
        a.hashes.emplace_back(file, crypto::sha1_hex(bytes));
        zip.add(file, bytes, false);  // PNGs are already compressed
    }
    a.base_zip = zip.finish();
    return a;
}

std::string build_manifest(const DesignAssets& assets, std::string_view pass_json) {
    boost::json::object m;
    for (const auto& [file, sha1] : assets.hashes) {
        m[file] = sha1;
    }
    m["pass.json"] = crypto::sha1_hex(pass_json);
    return boost::json::serialize(m);
}

std::string build_pkpass(const DesignAssets& assets, const std::string& pass_json,
                         const crypto::PassSigner& signer) {
    std::string manifest = build_manifest(assets, pass_json);
    std::string signature = signer.sign(manifest);
    MemoryZip zip(assets.base_zip);
    zip.add("pass.json", pass_json, true);
    zip.add("manifest.json", manifest, true);
    zip.add("signature", signature, false);
    return zip.finish();
}

}  // namespace cardsmith::passkit
