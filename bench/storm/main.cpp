// ramfleet-storm: a boot storm of N simulated PXE machines against whatever
// DHCP/TFTP/HTTP servers answer on --interface. Run it in a client network
// namespace where the DHCP pool is local (AnyIP); bench/storm/run sets that up,
// starts ramfleet and the reference (dnsmasq + nginx) and prints both.
#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fstream>
#include <iostream>
#include <random>

#include "boot_client.hpp"
#include "report.hpp"

namespace asio = boost::asio;
using namespace storm;

namespace {
constexpr int kMaxClients = 4096;

std::vector<Machine> plan_machines(const Options& opt) {
  auto prefix = opt.mac_prefix;
  std::vector<Machine> out;
  for (int i = 0; i < opt.clients; ++i) {
    int index = opt.first_index + i;
    char tail[8];
    std::snprintf(tail, sizeof tail, ":%02x:%02x", (index >> 8) & 0xff, index & 0xff);
    auto mac = ramfleet::MacAddress::parse(prefix + tail);
    if (!mac) throw std::invalid_argument("--mac-prefix must be four octets, like 52:54:01:00");
    Machine m;
    m.index = index;
    m.mac = *mac;
    // A stable SMBIOS UUID per machine: "storm" + the index.
    m.uuid = {0x73,
              0x74,
              0x6f,
              0x72,
              0x6d,
              0,
              0x40,
              0,
              0x80,
              0,
              0,
              0,
              0,
              0,
              static_cast<std::uint8_t>(index >> 8),
              static_cast<std::uint8_t>(index)};
    char u[40];
    const auto& b = m.uuid;
    std::snprintf(u, sizeof u, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
                  b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    m.uuid_text = u;
    out.push_back(std::move(m));
  }
  return out;
}

// One line every 5 s on stderr: how far the storm is.
void progress(Storm& storm, asio::steady_timer& t) {
  t.expires_after(std::chrono::seconds(5));
  t.async_wait([&storm, &t](boost::system::error_code ec) {
    if (ec) return;
    std::int64_t in_phase[kPhaseCount]{};
    for (const auto& m : storm.machines) {
      if (m.result.ready || !m.result.failure.empty()) continue;
      std::size_t last = 0;
      for (std::size_t p = 0; p < kPhaseCount; ++p)
        if (m.result.seen[p]) last = p;
      in_phase[last]++;
    }
    std::cerr << "storm: " << storm.opt.label << " t=" << static_cast<int>(storm.since_start_ms() / 1000) << "s ready "
              << storm.ready << "/" << storm.opt.clients << ", failed " << (storm.finished - storm.ready)
              << ", in progress:";
    for (std::size_t p = 0; p < kPhaseCount; ++p)
      if (in_phase[p]) std::cerr << " " << phase_name(p) << "=" << in_phase[p];
    std::cerr << "\n";
    progress(storm, t);
  });
}
}  // namespace

int main(int argc, char** argv) {
  Options opt;
  CLI::App app{"ramfleet-storm: N simulated PXE machines boot at once (bench/README.md, Boot storm)"};
  app.add_option("--interface", opt.interface, "interface the DHCP broadcasts go out of")->capture_default_str();
  app.add_option("--clients,-n", opt.clients, "simulated machines")
      ->check(CLI::Range(1, kMaxClients))
      ->capture_default_str();
  app.add_option("--mac-prefix", opt.mac_prefix, "first four octets; the last two are the machine's index")
      ->capture_default_str();
  app.add_option("--first-index", opt.first_index, "index of the first machine")->check(CLI::Range(1, 60000));
  app.add_option("--spread-ms", opt.spread_ms, "machines power on uniformly within this window")
      ->check(CLI::Range(0, 600000))
      ->capture_default_str();
  app.add_option("--deadline", opt.deadline_s, "seconds; a machine not ready by then has failed")
      ->check(CLI::Range(1, 7200))
      ->capture_default_str();
  app.add_option("--every-512", opt.every_512, "every Nth machine's TFTP asks no options (512-byte blocks); 0: none")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  app.add_option("--label", opt.label, "the server's name in the report");
  app.add_option("--json", opt.json_path, "write the results as JSON here");
  app.add_option("--seed", opt.seed, "power-on order");
  app.add_flag("--verbose,-v", opt.verbose, "a line per machine");
  CLI11_PARSE(app, argc, argv);

  asio::io_context io(1);
  Storm storm{io, opt, Clock::now(), Clock::now(), {}, 0, 0, {}};
  try {
    storm.machines = plan_machines(opt);
  } catch (const std::exception& e) {
    std::cerr << "ramfleet-storm: " << e.what() << "\n";
    return 2;
  }
  std::unique_ptr<DhcpPort> dhcp;
  try {
    dhcp = std::make_unique<DhcpPort>(io, opt.interface);
  } catch (const std::exception& e) {
    std::cerr << "ramfleet-storm: cannot open the DHCP client port on " << opt.interface << ": " << e.what()
              << " (run it as root in the client namespace)\n";
    return 2;
  }
  dhcp->start();
  storm.start = Clock::now();
  storm.deadline = storm.start + std::chrono::seconds(opt.deadline_s);

  std::mt19937 rng(opt.seed);
  std::uniform_int_distribution<int> jitter(0, opt.spread_ms);
  std::vector<std::unique_ptr<asio::steady_timer>> power_on;
  for (auto& m : storm.machines) {
    auto t = std::make_unique<asio::steady_timer>(io, std::chrono::milliseconds(jitter(rng)));
    t->async_wait([&storm, &dhcp, &m](boost::system::error_code ec) {
      if (!ec) asio::co_spawn(storm.io, boot_machine(storm, *dhcp, m), asio::detached);
    });
    power_on.push_back(std::move(t));
  }
  asio::steady_timer tick(io);
  progress(storm, tick);
  // Every wait inside a machine is bounded by the deadline; this is the backstop.
  asio::steady_timer backstop(io, storm.deadline + std::chrono::seconds(60));
  backstop.async_wait([&io](boost::system::error_code ec) {
    if (!ec) io.stop();
  });
  io.run();

  for (auto& m : storm.machines)
    if (!m.result.ready && m.result.failure.empty()) m.result.failure = "deadline: did not finish";
  auto summary = summarise(storm);
  print_report(storm, summary, std::cout);
  std::cout << "  dhcp packets: " << dhcp->sent() << " sent, " << dhcp->send_errors() << " send errors, "
            << dhcp->received() << " replies received (" << dhcp->stray_replies() << " for no waiting machine)\n";
  if (!opt.json_path.empty()) {
    std::ofstream j(opt.json_path);
    j << report_json(storm, summary);
  }
  return summary.failed == 0 ? 0 : 1;
}
