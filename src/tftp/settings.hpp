#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <vector>

namespace ramfleet::tftp {

// Where Debian's `ipxe` package puts its boot binaries (undionly.kpxe, ipxe.efi, snponly.efi).
inline const std::filesystem::path kIpxePackageDir = "/usr/lib/ipxe";

struct Settings {
  bool enabled = true;
  std::uint16_t port = 69;
  // Searched in order; a name is served from the first root that has it.
  // Default: ramfleet's assets, then the ipxe package's binaries.
  std::vector<std::filesystem::path> roots;
  // Beyond this, new requests are dropped unanswered (the client retransmits).
  // 1024: a rack of 1,000 machines powered on at once is served without a
  // retransmit wait (bench/storm: at 512, 488 of them waited for their RRQ's
  // retransmission), while the window bound below keeps the worst case at
  // 1024 x 512 KiB.
  std::size_t max_transfers = 1024;
  // Transfers one client IP may have at once (a PXE client runs one or two);
  // beyond this its new requests get an error while other clients are served.
  std::size_t max_transfers_per_client = 8;
  // RFC 2349 `timeout` values above this are ignored (not echoed: the RFC
  // allows echoing only the client's own value), so a request with timeout=255
  // that never ACKs holds its slot (max_retransmits + 1) * max_timeout at most.
  std::chrono::seconds max_timeout{5};
  // Whatever the client does, a transfer ends this long after it started.
  std::chrono::seconds max_transfer_time{300};
  std::chrono::milliseconds retransmit_timeout{1000};  // default when the client sends no timeout option
  int max_retransmits = 5;                             // then the transfer is abandoned and counted
  std::uint16_t max_blksize = 65464;                   // RFC 2348 upper bound
  std::uint16_t max_windowsize = 64;
  // After sending, a transfer polls its socket this long for the client's
  // answer before sleeping (see AckPoller); 0 always sleeps.
  std::chrono::microseconds ack_poll_budget{50};
  // A transfer keeps its outstanding window in memory for retransmission:
  // windowsize is lowered so that windowsize * blksize stays under this bound
  // (at least one block), which caps the window memory at max_transfers *
  // (max_window_bytes + one block read ahead).
  std::size_t max_window_bytes = std::size_t{512} * 1024;
  // A SIGHUP compares the settings it re-read with those running (settings/serve_reload.hpp).
  bool operator==(const Settings&) const = default;
};

}  // namespace ramfleet::tftp
