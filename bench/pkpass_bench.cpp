// Signed .pkpass generation rate (render pass.json + hash + CMS sign + zip), on one thread
// and on every core, against the ceiling measured in the same run: raw OpenSSL RSA-2048
// signatures per second with the same key. Two image sets: the shipped coffee template
// and a "realistic" set of seven PNG-sized incompressible files totalling 231 KB (the
// size used for the passkit-generator comparison in docs/benchmarks.md).
//
// usage: pkpass_bench [seconds-per-measurement (default 3)]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "apple/passkit/package.hpp"
#include "apple/passkit/pass_json.hpp"
#include "common/random.hpp"
#include "crypto/dev_certs.hpp"
#include "crypto/pass_signer.hpp"
#include "domain/template_dir.hpp"

using namespace cardsmith;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_per_run = 3.0;

// Runs `op(thread, i)` on `threads` threads for about seconds_per_run; returns ops/s.
template <typename Op>
double rate(unsigned threads, Op op) {
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> total{0};
    std::vector<std::thread> pool;
    auto start = Clock::now();
    for (unsigned t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            std::uint64_t n = 0;
            while (!stop.load(std::memory_order_relaxed)) {
                op(t, n++);
            }
            total += n;
        });
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds_per_run));
    stop = true;
    for (auto& th : pool) th.join();
    double secs = std::chrono::duration<double>(Clock::now() - start).count();
    return static_cast<double>(total.load()) / secs;
}

std::map<std::string, std::string> realistic_images() {
    // Seven files, 231 KB in all, random bytes so nothing compresses (like real PNGs).
    const std::vector<std::pair<std::string, std::size_t>> sizes = {
        {"icon", 3 * 1024},     {"icon@2x", 8 * 1024}, {"icon@3x", 14 * 1024},  {"logo", 10 * 1024},
        {"logo@2x", 24 * 1024}, {"strip", 52 * 1024},  {"strip@2x", 120 * 1024}};
    std::map<std::string, std::string> out;
    for (const auto& [name, size] : sizes) {
        std::string bytes(size, '\0');
        random::fill(bytes.data(), bytes.size());
        out.emplace(name, std::move(bytes));
    }
    return out;
}

domain::Program program_from(const domain::TemplateFiles& t) {
    domain::Program p;
    p.id = ProgramId(1);
    p.slug = "bench";
    p.name = "Bench Coffee";
    p.design = t.design;
    return p;
}

domain::Card card(std::uint64_t i) {
    domain::Card c;
    c.number = CardNumber("4111111111111111");
    c.serial = SerialNumber("bench-" + std::to_string(i));
    c.auth_token = AuthToken("0123456789abcdef0123456789abcdef");
    c.holder.name = "Anna Example";
    c.balance = static_cast<std::int64_t>(i % 5000);
    c.lifetime_points = c.balance;
    return c;
}

std::size_t total_bytes(const std::map<std::string, std::string>& images) {
    std::size_t n = 0;
    for (const auto& [_, b] : images) n += b.size();
    return n;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1) seconds_per_run = std::stod(argv[1]);
    auto dir = std::filesystem::temp_directory_path() / ("cardsmith-bench-" + random::hex(6));
    crypto::make_dev_certs(dir, {});
    auto signer = crypto::PassSigner::from_files(
        (dir / "pass.pem").string(), (dir / "pass.key").string(), (dir / "wwdr.pem").string());
    std::vector<domain::Problem> problems;
    auto tmpl = domain::load_template_dir(
        std::filesystem::path(CARDSMITH_BENCH_SOURCE_DIR) / "templates/coffee", problems);
    if (!problems.empty()) {
        std::fprintf(stderr, "template: %s %s\n", problems[0].field.c_str(),
                     problems[0].message.c_str());
        return 1;
    }
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    const auto program = program_from(tmpl);
    const passkit::PassIdentity id{"pass.dev.cardsmith", "DEVTEAM123",
                                   "https://cards.example/apple"};
    const std::string probe(300, 'm');  // about the size of a manifest

    std::printf("machine: %u cores; %.1f s per measurement\n", cores, seconds_per_run);
    double raw1 = rate(
        1, [&](unsigned, std::uint64_t) { (void)crypto::raw_sign(signer->private_key(), probe); });
    double rawn = rate(cores, [&](unsigned, std::uint64_t) {
        (void)crypto::raw_sign(signer->private_key(), probe);
    });
    std::printf("ceiling: raw RSA-2048 signs/s (same key): 1 thread %.0f, %u threads %.0f\n", raw1,
                cores, rawn);

    struct Set {
        const char* name;
        std::map<std::string, std::string> images;
    };
    std::vector<Set> sets = {{"template coffee", tmpl.images}, {"realistic", realistic_images()}};
    for (const auto& set : sets) {
        auto assets = passkit::prepare_design_assets(set.images);
        std::size_t pass_size =
            passkit::build_pkpass(assets, passkit::render_pass_json(id, program, card(0)), *signer)
                .size();
        auto op = [&](unsigned t, std::uint64_t i) {
            auto c = card(i * 64 + t);  // a distinct pass every time: nothing cached
            (void)passkit::build_pkpass(assets, passkit::render_pass_json(id, program, c), *signer);
        };
        // Where one pass's time goes, single thread.
        const auto pj = passkit::render_pass_json(id, program, card(1));
        const auto manifest = passkit::build_manifest(assets, pj);
        const auto signature = signer->sign(manifest);
        auto per_op_us = [](double per_sec) { return 1e6 / per_sec; };
        double r_render = rate(1, [&](unsigned, std::uint64_t i) {
            (void)passkit::render_pass_json(id, program, card(i));
        });
        double r_manifest =
            rate(1, [&](unsigned, std::uint64_t) { (void)passkit::build_manifest(assets, pj); });
        double r_sign = rate(1, [&](unsigned, std::uint64_t) { (void)signer->sign(manifest); });
        double r_zip = rate(1, [&](unsigned, std::uint64_t) {
            (void)passkit::zip_pkpass(assets, pj, manifest, signature);
        });
        std::printf(
            "%-16s per pass: render %.1f us, manifest %.1f us, CMS sign %.1f us "
            "(raw RSA %.1f us), zip %.1f us\n",
            set.name, per_op_us(r_render), per_op_us(r_manifest), per_op_us(r_sign),
            per_op_us(raw1), per_op_us(r_zip));
        double p1 = rate(1, op);
        double pn = rate(cores, op);
        std::printf(
            "%-16s %zu images, %zu KB in, pass %zu KB: 1 thread %.0f passes/s (%.1f%% of "
            "ceiling); %u threads %.0f passes/s (%.1f%% of ceiling)\n",
            set.name, set.images.size(), total_bytes(set.images) / 1024, pass_size / 1024, p1,
            100.0 * p1 / raw1, cores, pn, 100.0 * pn / rawn);
    }
    std::filesystem::remove_all(dir);
    return 0;
}
