// `ramfleet status`: the fleet at a glance, like `kubectl get nodes`: every
// machine that booted from this server with its MAC, IP, group, profile,
// phase and age (src/status/machine_table.hpp formats; this file fetches
// from the operator API and redraws with --watch).
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>

#include "cli/api_options.hpp"
#include "cli/commands.hpp"
#include "core/duration.hpp"
#include "net/api_client.hpp"
#include "status/machine_table.hpp"

namespace ramfleet::cli {
namespace {
using json = nlohmann::json;

struct StatusFlags {
  std::string server;  // https://HOST:PORT
  std::string token_file;
  std::string ca_file;
  std::string state_dir = "/var/lib/ramfleet";
  std::string output = "table";
  bool watch = false;
  double interval_s = 2;
  // --not-ready: the machines whose boot did not reach ready, and why
  // (GET /api/v1/boots/stalled), instead of every machine.
  bool not_ready = false;
  std::string since;  // boots started at most this long ago (a duration); empty: every boot followed
  std::string idle;   // only machines whose last step is at least this old
};

struct Fetched {
  json machines = json::array();
  json leases = json::array();
};

// GET a JSON document; the error names the URL and the status.
json get(net::ApiClient& api, const std::string& path) {
  const auto r = api.request("GET", path);
  const std::string where = api.endpoint().url + path;
  if (!r.answered()) throw std::runtime_error("no answer from " + where + ": " + r.error);
  if (r.status != 200) throw std::runtime_error(where + ": HTTP " + std::to_string(r.status) + ": " + r.body);
  auto doc = json::parse(r.body, nullptr, false);
  if (doc.is_discarded()) throw std::runtime_error(where + ": the answer is not JSON");
  return doc;
}

// Every page of /api/v1/machines (pages of 1000, in id order), and the leases.
Fetched fetch(net::ApiClient& e) {
  constexpr std::size_t kPage = 1000;
  constexpr std::size_t kMaxPages = 1000;  // a million machines: more is a server that loops
  Fetched f;
  std::string after;
  for (std::size_t page = 0; page < kMaxPages; ++page) {
    std::string path = "/api/v1/machines?limit=" + std::to_string(kPage);
    if (!after.empty()) path += "&after=" + after;  // ids are MACs or uuid-<hex>: nothing to escape
    json part = get(e, path);
    if (!part.is_array()) throw std::runtime_error("/api/v1/machines: expected a JSON array");
    for (auto& m : part) f.machines.push_back(std::move(m));
    if (part.size() < kPage || !f.machines.back().contains("id")) break;
    after = f.machines.back()["id"].get<std::string>();
  }
  f.leases = get(e, "/api/v1/leases");
  return f;
}

// The report's query, its durations read here with the one duration grammar
// (a typo is refused before anything is asked) and sent in canonical form.
std::string stalled_path(const StatusFlags& f) {
  std::string path = "/api/v1/boots/stalled?limit=10000";
  for (const auto& [key, value] : {std::pair{"since", &f.since}, std::pair{"idle", &f.idle}}) {
    if (value->empty()) continue;
    const auto d = parse_duration(*value);
    if (!d)
      throw std::runtime_error(std::string("--") + key + ": '" + *value + "' is not a duration (like 15m, 1h30m)");
    path += std::string("&") + key + "=" + format_duration(*d);
  }
  return path;
}

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

volatile std::sig_atomic_t g_interrupted = 0;
extern "C" void on_interrupt(int) { g_interrupted = 1; }

// --watch: fetch every interval; a terminal is cleared and redrawn (ages
// move), a pipe gets a new copy only when the machines changed. SIGINT ends
// it with status 0.
int watch(net::ApiClient& e, const StatusFlags& flags, status::Output output, std::chrono::milliseconds interval) {
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  const bool tty = ::isatty(STDOUT_FILENO) == 1;
  std::string last_data;
  std::string last_error;
  while (!g_interrupted) {
    try {
      std::string data;
      std::string text;
      if (flags.not_ready) {
        auto report = get(e, stalled_path(flags));
        // Ages move on every poll: compare the machines' steps, not the times they were measured at.
        for (const auto& m : report.value("machines", nlohmann::json::array()))
          data += m.value("id", "") + " " + m.value("last_step", "") + " " + m.value("detail", "") + "\n";
        text = status::render_not_ready(report, output, wall_ms());
      } else {
        const auto f = fetch(e);
        data = f.machines.dump() + f.leases.dump();
        text = status::render(status::machine_rows(f.machines, f.leases), output, wall_ms());
      }
      if (tty || data != last_data) {
        if (tty) std::cout << "\033[H\033[2J";
        std::cout << text << (tty ? "" : "\n") << std::flush;
      }
      last_data = data;
      last_error.clear();
    } catch (const std::exception& ex) {
      // The server restarting is part of watching it: say so once, keep polling.
      if (ex.what() != last_error) std::cerr << "ramfleet status: " << ex.what() << "\n";
      last_error = ex.what();
    }
    timespec left{static_cast<time_t>(interval.count() / 1000), static_cast<long>(interval.count() % 1000) * 1000000};
    while (!g_interrupted && ::nanosleep(&left, &left) != 0) {
    }
  }
  return 0;
}

int run_status(const StatusFlags& f) {
  const auto output = status::output_from_string(f.output);
  if (!output) {
    std::cerr << "ramfleet status: -o must be wide, json or yaml, got '" << f.output << "'\n";
    return 2;
  }
  if (f.interval_s < 1 || f.interval_s > 3600) {
    std::cerr << "ramfleet status: --interval must be from 1 to 3600 seconds\n";
    return 2;
  }
  if (f.not_ready) {
    try {
      (void)stalled_path(f);
    } catch (const std::exception& e) {
      std::cerr << "ramfleet status: " << e.what() << "\n";
      return 2;
    }
  } else if (!f.since.empty() || !f.idle.empty()) {
    std::cerr << "ramfleet status: --since and --idle go with --not-ready\n";
    return 2;
  }
  // The operator API (docs/operations.md): by default the local serve's,
  // with the bootstrap admin token and the operator CA from its state.
  ApiOptions api_options{f.state_dir, f.server, f.token_file, f.ca_file};
  std::string why;
  auto endpoint = resolve_endpoint(api_options, why);
  if (!endpoint) {
    std::cerr << "ramfleet status: " << why << "\n";
    return 2;
  }
  std::unique_ptr<net::ApiClient> api;
  try {
    api = std::make_unique<net::ApiClient>(std::move(*endpoint));
  } catch (const std::exception& e) {
    std::cerr << "ramfleet status: " << e.what() << "\n";
    return 2;
  }
  if (f.watch)
    return watch(*api, f, *output, std::chrono::milliseconds(static_cast<std::int64_t>(f.interval_s * 1000)));
  if (f.not_ready) {
    std::cout << status::render_not_ready(get(*api, stalled_path(f)), *output, wall_ms());
    return 0;
  }
  const auto fetched = fetch(*api);
  std::cout << status::render(status::machine_rows(fetched.machines, fetched.leases), *output, wall_ms());
  return 0;
}

void add_status_command(CLI::App& app, CommandTable& commands) {
  auto* sub = app.add_subcommand("status", "The machines that booted from this server, like `kubectl get nodes`");
  auto f = std::make_shared<StatusFlags>();
  sub->add_option("-o,--output", f->output, "wide (adds UUID, arch, last boot, labels), json or yaml");
  sub->add_flag("-w,--watch", f->watch, "redraw every --interval until interrupted");
  sub->add_flag("--not-ready", f->not_ready,
                "only the machines whose boot did not reach ready: the last step each reached, since when, and why");
  sub->add_option("--since", f->since, "with --not-ready: boots started at most this long ago (e.g. 15m)");
  sub->add_option("--idle", f->idle,
                  "with --not-ready: only machines whose last step is at least this old (e.g. 30s), not those "
                  "still moving");
  sub->add_option("--interval", f->interval_s, "seconds between polls with --watch (1 to 3600, default 2)");
  sub->add_option("--server", f->server, "the operator API's URL (default: the local serve's)");
  sub->add_option("--token-file", f->token_file, "file holding an API token (default: STATE/api/admin.token)");
  sub->add_option("--ca", f->ca_file, "CA certificate the server's is checked against (default: STATE/api/ca.crt)");
  sub->add_option("--state", f->state_dir, "serve's state directory, for the default token and CA");
  commands.emplace_back(sub, [f] { return run_status(*f); });
}

const CommandRegistration kRegistration{15, add_status_command};
}  // namespace
}  // namespace ramfleet::cli
