#include "cli/ops_commands.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <iostream>
#include <sstream>

#include "app/app.hpp"
#include "app/operations.hpp"
#include "cli/failures.hpp"
#include "common/time_format.hpp"
#include "config/config.hpp"

namespace cardsmith::cli {
namespace {

constexpr const char* kDefaultConfig = "config/cardsmith.toml";
constexpr int kDeadListed = 20;

struct Options {
    std::string config = kDefaultConfig;
    std::string out;
    bool json = false;
};

int usage_error(const std::string& message) {
    std::cerr << "cardsmith: " << message << " (see cardsmith --help)\n";
    return 2;
}

// Parses the options after the subcommand's words; `allowed` names the flags it takes
// besides --config. Returns 0, or the usage error's status.
int parse_options(const std::vector<std::string>& args, std::size_t from,
                  const std::vector<std::string>& allowed, Options& o) {
    const auto takes = [&](const std::string& flag) {
        return std::find(allowed.begin(), allowed.end(), flag) != allowed.end();
    };
    for (std::size_t i = from; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--config" && i + 1 < args.size()) {
            o.config = args[++i];
        } else if (a.rfind("--config=", 0) == 0) {
            o.config = a.substr(9);
        } else if (takes("--out") && a == "--out" && i + 1 < args.size()) {
            o.out = args[++i];
        } else if (takes("--out") && a.rfind("--out=", 0) == 0) {
            o.out = a.substr(6);
        } else if (takes("--json") && a == "--json") {
            o.json = true;
        } else {
            return usage_error("unknown or incomplete option '" + a + "'");
        }
    }
    return 0;
}

// "42s", "5m 3s", "2h 4m", "3d 2h".
std::string age(std::int64_t ms) {
    const std::int64_t s = std::max<std::int64_t>(ms, 0) / 1000;
    std::ostringstream out;
    if (s < 60) {
        out << s << "s";
    } else if (s < 3600) {
        out << s / 60 << "m " << s % 60 << "s";
    } else if (s < 86400) {
        out << s / 3600 << "h " << s % 3600 / 60 << "m";
    } else {
        out << s / 86400 << "d " << s % 86400 / 3600 << "h";
    }
    return out.str();
}

std::string iso(std::int64_t unix_ms) {
    return format_iso8601(SysTime(std::chrono::milliseconds(unix_ms)));
}

// Push tokens identify a customer's device: a prefix is enough to find it in the database.
std::string token_prefix(const std::string& token) {
    return token.size() <= 8 ? token : token.substr(0, 8) + "...";
}

// Left-aligned columns separated by two spaces.
void print_table(const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> width;
    for (const auto& row : rows) {
        width.resize(std::max(width.size(), row.size()));
        for (std::size_t i = 0; i < row.size(); ++i) {
            width[i] = std::max(width[i], row[i].size());
        }
    }
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) {
                line += std::string(width[i] - row[i].size() + 2, ' ');
            }
        }
        line.erase(line.find_last_not_of(' ') + 1);
        std::cout << line << "\n";
    }
}

// Runs `work` with the config at o.config (failures: cli/failures.hpp).
template <typename Work>
int with_config(const Options& o, Work work) {
    return report_failures(
        [&] { return work(config::load(o.config, config::process_environment())); });
}

int print_outbox_status(const app::OutboxStatus& s, bool json) {
    std::int64_t pending = 0, sending = 0, dead = 0, due = 0, oldest_pending = 0;
    for (const auto& g : s.groups) {
        due += g.due;
        if (g.state == "pending") {
            pending += g.rows;
            if (oldest_pending == 0 || g.oldest_created_ms < oldest_pending) {
                oldest_pending = g.oldest_created_ms;
            }
        } else if (g.state == "sending") {
            sending += g.rows;
        } else if (g.state == "dead") {
            dead += g.rows;
        }
    }
    const std::int64_t oldest_age_ms = pending > 0 ? s.now_ms - oldest_pending : 0;
    if (json) {
        boost::json::array groups;
        for (const auto& g : s.groups) {
            boost::json::object o{{"kind", g.kind},
                                  {"state", g.state},
                                  {"rows", g.rows},
                                  {"dueNow", g.due},
                                  {"oldestAgeSeconds", (s.now_ms - g.oldest_created_ms) / 1000}};
            if (g.state == "sending") {
                o["claimedBy"] = g.instance;
            }
            groups.push_back(std::move(o));
        }
        boost::json::array dead_rows;
        for (const auto& d : s.dead) {
            dead_rows.push_back({{"id", d.id},
                                 {"kind", d.kind},
                                 {"topic", d.topic},
                                 {"token", token_prefix(d.target)},
                                 {"attempts", d.attempts},
                                 {"lastError", d.last_error},
                                 {"createdAt", iso(d.created_at_ms)},
                                 {"diedAt", iso(d.updated_at_ms)}});
        }
        boost::json::object out{{"at", iso(s.now_ms)},
                                {"pending", pending},
                                {"sending", sending},
                                {"dead", dead},
                                {"dueNow", due},
                                {"oldestPendingAgeSeconds", oldest_age_ms / 1000},
                                {"groups", std::move(groups)},
                                {"deadRows", std::move(dead_rows)}};
        std::cout << boost::json::serialize(out) << "\n";
        return 0;
    }
    std::cout << "outbox at " << iso(s.now_ms) << ": " << pending << " pending (" << due
              << " due now), " << sending << " sending, " << dead << " dead";
    if (pending > 0) {
        std::cout << "; oldest pending " << age(oldest_age_ms);
    }
    std::cout << "\n";
    if (s.groups.empty()) {
        return 0;
    }
    std::vector<std::vector<std::string>> table{
        {"KIND", "STATE", "ROWS", "DUE NOW", "OLDEST", "CLAIMED BY"}};
    for (const auto& g : s.groups) {
        table.push_back({g.kind, g.state, std::to_string(g.rows),
                         g.state == "pending" ? std::to_string(g.due) : "-",
                         age(s.now_ms - g.oldest_created_ms),
                         g.state == "sending" ? (g.instance.empty() ? "?" : g.instance) : ""});
    }
    std::cout << "\n";
    print_table(table);
    if (!s.dead.empty()) {
        std::cout << "\nnewest dead rows (cardsmith outbox retry-dead sends them again):\n";
        std::vector<std::vector<std::string>> rows{
            {"ID", "KIND", "TOPIC", "TOKEN", "ATTEMPTS", "DIED", "LAST ERROR"}};
        for (const auto& d : s.dead) {
            rows.push_back({std::to_string(d.id), d.kind, d.topic, token_prefix(d.target),
                            std::to_string(d.attempts), iso(d.updated_at_ms),
                            d.last_error.substr(0, 80)});
        }
        print_table(rows);
    }
    return 0;
}

int print_identities(const std::vector<app::IdentityRow>& rows, bool json) {
    if (json) {
        boost::json::array out;
        for (const auto& r : rows) {
            boost::json::object o{{"passTypeId", r.pass_type_id},
                                  {"teamId", r.team_id},
                                  {"owner", r.merchant_id ? "merchant" : "server"},
                                  {"notAfter", iso(r.not_after * 1000)},
                                  {"daysLeft", r.days_left}};
            if (r.merchant_id) {
                o["merchant"] = {{"id", *r.merchant_id}, {"name", r.merchant_name}};
            }
            out.push_back(std::move(o));
        }
        std::cout << boost::json::serialize(boost::json::object{{"identities", std::move(out)}})
                  << "\n";
        return 0;
    }
    std::vector<std::vector<std::string>> table{
        {"PASS TYPE ID", "TEAM ID", "OWNER", "NOT AFTER", "DAYS LEFT"}};
    for (const auto& r : rows) {
        const std::string owner = r.merchant_id ? "merchant " + std::to_string(*r.merchant_id) +
                                                      " (" + r.merchant_name + ")"
                                                : "server default";
        std::string days = std::to_string(r.days_left);
        if (r.days_left < 0) {
            days += " EXPIRED";
        } else if (r.days_left < 30) {
            days += " renew now";
        }
        table.push_back({r.pass_type_id, r.team_id, owner, iso(r.not_after * 1000), days});
    }
    print_table(table);
    return 0;
}

}  // namespace

int outbox(const std::vector<std::string>& args) {
    const std::string sub = args.size() > 1 ? args[1] : "";
    Options o;
    if (sub == "status") {
        if (int status = parse_options(args, 2, {"--json"}, o); status != 0) {
            return status;
        }
        return with_config(o, [&](const config::Config& cfg) {
            return print_outbox_status(app::outbox_status(cfg, kDeadListed), o.json);
        });
    }
    if (sub == "retry-dead") {
        if (int status = parse_options(args, 2, {}, o); status != 0) {
            return status;
        }
        return with_config(o, [&](const config::Config& cfg) {
            const int n = app::retry_dead_outbox(cfg);
            std::cout << n << " dead outbox row" << (n == 1 ? "" : "s")
                      << " back to pending; a running server sends " << (n == 1 ? "it" : "them")
                      << " within its poll interval\n";
            return 0;
        });
    }
    return usage_error("outbox needs status or retry-dead");
}

int identity(const std::vector<std::string>& args) {
    if (args.size() < 2 || args[1] != "list") {
        return usage_error("identity needs list");
    }
    Options o;
    if (int status = parse_options(args, 2, {"--json"}, o); status != 0) {
        return status;
    }
    return with_config(o, [&](const config::Config& cfg) {
        return print_identities(app::list_identities(cfg), o.json);
    });
}

int backup(const std::vector<std::string>& args) {
    Options o;
    if (int status = parse_options(args, 1, {"--out"}, o); status != 0) {
        return status;
    }
    if (o.out.empty()) {
        return usage_error("backup needs --out FILE");
    }
    return with_config(o, [&](const config::Config& cfg) {
        try {
            const auto r = app::backup(cfg, o.out);
            std::cout << "backup written to " << o.out << " (" << r.pages << " pages, " << r.bytes
                      << " bytes)\n";
            return 0;
        } catch (const storage::StorageError& e) {
            std::cerr << "cardsmith: backup: " << e.what() << "\n";  // names the file at fault
            return 1;
        }
    });
}

int secret_key(const std::vector<std::string>& args) {
    if (args.size() < 2 || args[1] != "rotate") {
        return usage_error("secret-key needs rotate");
    }
    Options o;
    if (int status = parse_options(args, 2, {}, o); status != 0) {
        return status;
    }
    return with_config(o, [&](const config::Config& cfg) {
        const auto r = app::rotate_secret_key(cfg);
        const auto& file = cfg.server.secret_key_file;
        std::cout << "server key rotated: " << r.old_key_id << " -> " << r.new_key_id << "; "
                  << r.resealed << " sealed secret" << (r.resealed == 1 ? "" : "s")
                  << " re-sealed in one transaction";
        if (r.caught_up > 0) {
            std::cout << " (" << r.caught_up << " were still sealed with an older key)";
        }
        std::cout << "\nthe previous key is kept in " << file
                  << ".old; running servers load the new key within server.sync_interval "
                     "(instances with their own copy of the file need the new "
                  << file << " and " << file << ".old copied first, or a restart)\n";
        return 0;
    });
}

}  // namespace cardsmith::cli
