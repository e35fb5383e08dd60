#include "apple/passkit/package.hpp"

#include <zip.h>
#include <zlib.h>

#include <array>
#include <boost/json.hpp>
#include <ctime>
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
    MemoryZip() {
        zip_error_t err;
        zip_error_init(&err);
        source_.reset(zip_source_buffer_create(nullptr, 0, 0, &err));
        if (!source_) {
            zip_fail("buffer source", &err);
        }
        zip_t* za = zip_open_from_source(source_.get(), ZIP_TRUNCATE, &err);
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

void put16(std::string& out, std::uint16_t v) {
    out += static_cast<char>(v & 0xFF);
    out += static_cast<char>(v >> 8);
}

void put32(std::string& out, std::uint32_t v) {
    put16(out, static_cast<std::uint16_t>(v & 0xFFFF));
    put16(out, static_cast<std::uint16_t>(v >> 16));
}

std::uint32_t get32(std::string_view b, std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) {
        v |= static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + i])) << (8 * i);
    }
    return v;
}

// Reads libzip's end-of-central-directory record (22 bytes, no archive comment) so the
// per-pass splice knows where the directory starts.
void locate_central_directory(DesignAssets& a) {
    const std::string_view b = a.base_zip;
    if (b.size() < 22 || get32(b, b.size() - 22) != 0x06054b50) {
        throw std::runtime_error("design archive: no end-of-central-directory record");
    }
    const std::size_t end = b.size() - 22;
    a.entries = static_cast<std::uint16_t>(get32(b, end + 8) & 0xFFFF);
    a.central_size = get32(b, end + 12);
    a.central_offset = get32(b, end + 16);
    if (a.central_offset + a.central_size != end) {
        throw std::runtime_error("design archive: unexpected layout");
    }
}

void set_dos_time(DesignAssets& a) {
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    a.dos_time =
        static_cast<std::uint16_t>((tm.tm_hour << 11) | (tm.tm_min << 5) | (tm.tm_sec / 2));
    a.dos_date =
        static_cast<std::uint16_t>(((tm.tm_year - 80) << 9) | ((tm.tm_mon + 1) << 5) | tm.tm_mday);
}

}  // namespace

DesignAssets prepare_design_assets(const std::map<std::string, std::string>& images) {
    DesignAssets a;
    MemoryZip zip;
    for (const auto& [name, bytes] : images) {
        std::string file = domain::image_file_name(name);
        a.hashes.emplace_back(file, crypto::sha1_hex(bytes));
        zip.add(file, bytes, false);  // PNGs are already compressed
    }
    a.base_zip = zip.finish();
    locate_central_directory(a);
    set_dos_time(a);
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
    return zip_pkpass(assets, pass_json, manifest, signature);
}

// Splices pass.json, manifest.json and signature into the design's archive: its local
// entries, our three stored entries, its central directory, our three central records and
// a new end record. Written by hand rather than reopening the archive with libzip because
// that costs about 41 us per pass (copying the archive in and out, re-reading its
// directory), 13% of a pass next to the RSA signature; this costs a few microseconds: one
// allocation, one copy of the images and a CRC-32 of ~3 KB (docs/benchmarks.md).
std::string zip_pkpass(const DesignAssets& assets, const std::string& pass_json,
                       const std::string& manifest, const std::string& signature) {
    struct File {
        std::string_view name;
        std::string_view data;
        std::uint32_t crc;
        std::size_t offset;
    };
    std::array<File, 3> files{{{"pass.json", pass_json, 0, 0},
                               {"manifest.json", manifest, 0, 0},
                               {"signature", signature, 0, 0}}};
    std::size_t total = assets.base_zip.size();
    for (auto& f : files) {
        f.crc = static_cast<std::uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(f.data.data()),
                                                 static_cast<uInt>(f.data.size())));
        total += 30 + 46 + 2 * f.name.size() + f.data.size();
    }
    std::string out;
    out.reserve(total);
    out.append(assets.base_zip, 0, assets.central_offset);
    for (auto& f : files) {
        f.offset = out.size();
        put32(out, 0x04034b50);  // local file header
        put16(out, 20);          // version needed: 2.0
        put16(out, 0x0800);      // names are UTF-8
        put16(out, 0);           // stored
        put16(out, assets.dos_time);
        put16(out, assets.dos_date);
        put32(out, f.crc);
        put32(out, static_cast<std::uint32_t>(f.data.size()));
        put32(out, static_cast<std::uint32_t>(f.data.size()));
        put16(out, static_cast<std::uint16_t>(f.name.size()));
        put16(out, 0);  // no extra field
        out.append(f.name);
        out.append(f.data);
    }
    const std::size_t central_start = out.size();
    out.append(assets.base_zip, assets.central_offset, assets.central_size);
    for (const auto& f : files) {
        put32(out, 0x02014b50);     // central directory header
        put16(out, (3 << 8) | 20);  // made by: UNIX, 2.0
        put16(out, 20);
        put16(out, 0x0800);
        put16(out, 0);
        put16(out, assets.dos_time);
        put16(out, assets.dos_date);
        put32(out, f.crc);
        put32(out, static_cast<std::uint32_t>(f.data.size()));
        put32(out, static_cast<std::uint32_t>(f.data.size()));
        put16(out, static_cast<std::uint16_t>(f.name.size()));
        put16(out, 0);               // extra
        put16(out, 0);               // comment
        put16(out, 0);               // disk
        put16(out, 0);               // internal attributes
        put32(out, 0100644u << 16);  // external attributes: a regular file, rw-r--r--
        put32(out, static_cast<std::uint32_t>(f.offset));
        out.append(f.name);
    }
    const std::size_t central_size = out.size() - central_start;
    const auto entries = static_cast<std::uint16_t>(assets.entries + files.size());
    put32(out, 0x06054b50);  // end of central directory
    put16(out, 0);
    put16(out, 0);
    put16(out, entries);
    put16(out, entries);
    put32(out, static_cast<std::uint32_t>(central_size));
    put32(out, static_cast<std::uint32_t>(central_start));
    put16(out, 0);
    return out;
}

}  // namespace cardsmith::passkit
