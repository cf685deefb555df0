#pragma once
// The command line of `ramfleet-stage1` (parsed sans-IO so tests can drive
// it). The stage-1 initrd's /init runs:
//   ramfleet-stage1 fetch --url URL --sha256 HEX --into DIR
//       [--attempts N] [--connect-timeout-ms N] [--io-timeout-ms N]
//       [--p2p --manifest URL --tracker URL --credential CRED
//        --listen-port 7480 --seed-seconds N]
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/sha256.hpp"

namespace ramfleet::stage1 {

struct P2pOptions {
  bool enabled = false;
  std::string manifest_url;  // <assets>/images/<id>/chunks.json
  std::string tracker_url;   // {{server}}/api/v1/machines/<id>/p2p/<image id>
  std::string credential;    // this boot's event credential (Bearer)
  std::uint16_t listen_port = 7480;
  unsigned seed_seconds = 0;  // serve held chunks this long after the root is complete
};

struct FetchOptions {
  std::string url;
  Sha256Digest sha256{};
  std::string sha256_hex;
  std::string into;
  unsigned attempts = 8;  // tries before the first body byte (connect errors, 5xx)
  unsigned restarts = 2;  // whole restarts into a wiped directory after a broken stream
  unsigned connect_timeout_ms = 5000;
  unsigned io_timeout_ms = 20000;
  P2pOptions p2p;
};

// `args` excludes the program name. nullopt + `error` on a bad command line.
std::optional<FetchOptions> parse_fetch_options(const std::vector<std::string>& args, std::string& error);

std::string fetch_usage();

}  // namespace ramfleet::stage1
