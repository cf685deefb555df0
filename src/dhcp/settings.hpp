#pragma once
// What the DHCP service is told to do, filled from flags and ramfleet.yaml by
// the CLI. Plain data: the sans-IO core reads it, nothing here touches the OS.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/ipv4.hpp"
#include "core/mac_address.hpp"
#include "core/rate_limit.hpp"

namespace ramfleet::dhcp {

enum class Mode {
  proxy,  // beside an existing DHCP server: answer PXE clients only, offer no address
  full,   // the network's DHCP server: pools, reservations, leases
  off,    // DHCP is someone else's job; TFTP/HTTP still run
};

struct AddressRange {
  Ipv4 first;
  Ipv4 last;
  [[nodiscard]] bool contains(Ipv4 ip) const { return first <= ip && ip <= last; }
  bool operator==(const AddressRange&) const = default;
};

struct SubnetSettings {
  Ipv4Subnet subnet;
  std::vector<AddressRange> pools;
  std::optional<Ipv4> router;
  std::vector<Ipv4> dns_servers;
  std::string domain_name;
  std::chrono::seconds lease_time{3600};
  bool operator==(const SubnetSettings&) const = default;
};

struct Reservation {
  MacAddress mac;
  Ipv4 address;
  std::string hostname;  // sent as option 12 when not empty
  bool operator==(const Reservation&) const = default;
};

// File names handed to firmware for each boot path; looked up in the TFTP root.
struct BootFiles {
  std::string bios = "undionly.kpxe";
  std::string uefi_x64 = "snponly.efi";
  std::string uefi_x64_fallback = "ipxe.efi";  // used when uefi_x64 is absent from the root
  std::string uefi_arm64 = "snponly-arm64.efi";
  std::string ipxe_script = "boot.ipxe";  // path on the HTTP server that iPXE clients chain to
  bool operator==(const BootFiles&) const = default;
};

struct Settings {
  Mode mode = Mode::proxy;
  std::string interface;  // boot interface name (e.g. "eth0")
  Ipv4 server_address;    // the interface's own address: next-server, option 54, HTTP host
  std::uint16_t http_port = 80;
  std::vector<SubnetSettings> subnets;  // full mode; the interface's subnet is always present
  std::vector<Reservation> reservations;
  BootFiles boot_files;
  bool answer_router_solicitations = true;  // iPXE waits ~13 s for IPv6 autoconf otherwise

  // Where boot files are looked up to decide (snponly.efi vs ipxe.efi, arm64
  // present or not): the CLI copies the TFTP roots here. Empty: /usr/lib/ipxe.
  std::vector<std::filesystem::path> boot_file_roots;
  // An offered address is held for the client this long before others may get it.
  std::chrono::seconds offer_hold{60};
  // A DECLINEd address (someone else answers ARP for it) is not handed out for this long.
  std::chrono::seconds decline_hold{600};

  // Flood limits (docs/dhcp.md "Limits"): packets over them are dropped and
  // counted (dhcp.drop.rate_limited.*). A booting machine sends ~6 packets in
  // a few seconds (firmware, iPXE, the OS: DISCOVER and REQUEST each).
  RateLimit per_mac_limit{2, 20};      // per client MAC (chaddr): 2/s, bursts of 20
  RateLimit global_limit{1000, 2000};  // all clients together
  std::size_t tracked_macs = 16384;    // per-MAC buckets held at most (bounded memory)
  // Warnings a flood would repeat per packet (pool exhausted, rate limited)
  // are logged at most once per interval, with the count of those held back.
  std::chrono::seconds warn_interval{10};
  // A SIGHUP compares the settings it re-read with those running (settings/serve_reload.hpp).
  bool operator==(const Settings&) const = default;
};

}  // namespace ramfleet::dhcp
