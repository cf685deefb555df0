#include "stage1/fetch_options.hpp"

#include <charconv>

#include "core/hex.hpp"

namespace ramfleet::stage1 {
namespace {

bool parse_unsigned(const std::string& s, unsigned max, unsigned& out) {
  unsigned v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || s.empty() || v > max) return false;
  out = v;
  return true;
}

}  // namespace

std::string fetch_usage() {
  return "usage: ramfleet-stage1 fetch --url URL --sha256 HEX --into DIR [--attempts N] [--connect-timeout-ms N]\n"
         "                            [--io-timeout-ms N]\n"
         "                            [--p2p --manifest URL --tracker URL --credential CRED --listen-port PORT\n"
         "                             --seed-seconds N]\n";
}

std::optional<FetchOptions> parse_fetch_options(const std::vector<std::string>& args, std::string& error) {
  FetchOptions o;
  if (args.empty() || args[0] != "fetch") {
    error = "expected the command \"fetch\"";
    return std::nullopt;
  }
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--p2p") {
      o.p2p.enabled = true;
      continue;
    }
    if (i + 1 >= args.size()) {
      error = a.rfind("--", 0) == 0 ? a + " needs a value" : "unexpected argument \"" + a + "\"";
      return std::nullopt;
    }
    const std::string& v = args[++i];
    unsigned n = 0;
    if (a == "--url") {
      o.url = v;
    } else if (a == "--sha256") {
      auto bytes = from_hex(v);
      if (v.size() != 64 || !bytes || bytes->size() != 32) {
        error = "--sha256 wants 64 hex digits, got \"" + v.substr(0, 80) + "\"";
        return std::nullopt;
      }
      std::copy(bytes->begin(), bytes->end(), o.sha256.begin());
      o.sha256_hex = to_hex(o.sha256);
    } else if (a == "--into") {
      o.into = v;
    } else if (a == "--attempts") {
      if (!parse_unsigned(v, 100, n) || n == 0) {
        error = "--attempts wants 1..100";
        return std::nullopt;
      }
      o.attempts = n;
    } else if (a == "--restarts") {
      if (!parse_unsigned(v, 10, n)) {
        error = "--restarts wants 0..10";
        return std::nullopt;
      }
      o.restarts = n;
    } else if (a == "--connect-timeout-ms" || a == "--io-timeout-ms") {
      if (!parse_unsigned(v, 600000, n) || n < 100) {
        error = a + " wants 100..600000";
        return std::nullopt;
      }
      (a == "--connect-timeout-ms" ? o.connect_timeout_ms : o.io_timeout_ms) = n;
    } else if (a == "--manifest") {
      o.p2p.manifest_url = v;
    } else if (a == "--tracker") {
      o.p2p.tracker_url = v;
    } else if (a == "--credential") {
      o.p2p.credential = v;
    } else if (a == "--listen-port") {
      if (!parse_unsigned(v, 65535, n) || n == 0) {
        error = "--listen-port wants 1..65535";
        return std::nullopt;
      }
      o.p2p.listen_port = static_cast<std::uint16_t>(n);
    } else if (a == "--seed-seconds") {
      if (!parse_unsigned(v, 86400, n)) {
        error = "--seed-seconds wants 0..86400";
        return std::nullopt;
      }
      o.p2p.seed_seconds = n;
    } else {
      error = "unknown option \"" + a.substr(0, 80) + "\"";
      return std::nullopt;
    }
  }
  if (o.url.empty() || o.sha256_hex.empty() || o.into.empty()) {
    error = "--url, --sha256 and --into are required";
    return std::nullopt;
  }
  if (o.p2p.enabled && (o.p2p.manifest_url.empty() || o.p2p.tracker_url.empty() || o.p2p.credential.empty())) {
    error = "--p2p needs --manifest, --tracker and --credential";
    return std::nullopt;
  }
  return o;
}

}  // namespace ramfleet::stage1
