#pragma once
// Shared state of one storm run: the options, the clock, and each simulated
// machine's identity and results. One process, one Asio event loop, one
// coroutine per machine (bench/storm/boot_client.cpp).
#include <array>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/ipv4.hpp"
#include "core/mac_address.hpp"

namespace storm {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string interface = "cl0";           // where the DHCP broadcasts go out
  int clients = 100;                       // simulated machines (1..4096)
  std::string mac_prefix = "52:54:01:00";  // + two bytes: the client's index, from 1
  int first_index = 1;
  int spread_ms = 2000;  // power-on jitter: machines start uniformly within this window
  int deadline_s = 900;  // the whole run; a machine not ready by then has failed
  int every_512 = 2;     // every Nth machine asks TFTP for no options (512-byte blocks), the rest 1468
  std::string label = "server";
  std::string json_path;  // results as JSON, for bench/storm/run
  unsigned seed = 1;
  bool verbose = false;
};

// Phase::dhcp etc. index Result's arrays (a struct so the names do not clash with namespaces).
struct Phase {
  enum : std::size_t {
    dhcp,           // PXE firmware's DISCOVER .. ACK
    tftp,           // the iPXE binary
    ipxe_dhcp,      // iPXE's own DISCOVER .. ACK
    scripts,        // GET boot.ipxe + the per-machine script it chains to
    ipxe,           // the per-machine script alone (part of `scripts`)
    kernel_initrd,  // kernel and initrd(s)
    config,         // the node's config with its boot token (when the script names one)
    events,         // POST booted + ready
    count
  };
};
inline constexpr std::size_t kPhaseCount = Phase::count;
const char* phase_name(std::size_t p);

struct Result {
  bool ready = false;
  std::string failure;                   // "<phase>: <why>" when not ready
  std::array<double, kPhaseCount> ms{};  // time spent per phase (retries included)
  std::array<bool, kPhaseCount> seen{};
  double ready_at_ms = 0;   // since the storm's start
  std::string lease;        // the address iPXE's DHCP gave
  std::string pxe_lease;    // the address the firmware's DHCP gave
  int retries = 0;          // retransmissions and retried requests, all phases
  std::uint64_t bytes = 0;  // TFTP + HTTP payload received
};

struct Machine {
  int index = 0;
  ramfleet::MacAddress mac;
  std::array<std::uint8_t, 16> uuid{};
  std::string uuid_text;
  Result result;
};

struct Storm {
  boost::asio::io_context& io;
  Options opt;
  Clock::time_point start;
  Clock::time_point deadline;
  std::vector<Machine> machines;
  int ready = 0;
  int finished = 0;
  std::map<std::string, int> retry_reasons;  // "<phase>: <why>" -> count, for the report

  // Counts a retransmission or retried request, and why (URL queries cut so alike reasons add up).
  void retry(Machine& m, const char* phase, std::string why) {
    ++m.result.retries;
    if (auto q = why.find('?'); q != std::string::npos) why = why.substr(0, q) + "?...";
    ++retry_reasons[std::string(phase) + ": " + why.substr(0, 160)];
  }

  [[nodiscard]] double since_start_ms() const {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  }
  [[nodiscard]] bool past_deadline() const { return Clock::now() >= deadline; }
};

}  // namespace storm
