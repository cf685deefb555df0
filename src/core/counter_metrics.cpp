#include "core/counter_metrics.hpp"

#include <array>

namespace ramfleet::metrics {
namespace {

// A family: counters named `prefix` + one word (no further dot) are one
// metric with that word as the label's value. Exact names come first (a
// total that shares its family's prefix), then the longest prefix wins.
struct Rule {
  std::string_view prefix;  // ends with '.' for a family; a whole name otherwise
  std::string_view metric;
  std::string_view label;  // empty for an exact name
  std::string_view help;
};

constexpr std::array kRules{
    // Exact names.
    Rule{"dhcp.rx.packets", "ramfleet_dhcp_datagrams_received", "", "DHCP datagrams received (before parsing)."},
    Rule{"dhcp.drop.rate_limited", "ramfleet_dhcp_rate_limited", "",
         "DHCP requests dropped by a rate limit (any limit; by limit: ramfleet_dhcp_rate_limited_by_total)."},
    Rule{"tftp.drop.malformed", "ramfleet_tftp_malformed", "",
         "Malformed TFTP datagrams dropped (by reason: ramfleet_tftp_malformed_by_reason_total)."},
    Rule{"tftp.transfer.started", "ramfleet_tftp_transfers_started", "", "TFTP transfers started."},
    Rule{"tftp.bytes_sent", "ramfleet_tftp_sent_bytes", "", "TFTP payload bytes sent, every transfer."},
    Rule{"http.requests", "ramfleet_http_requests", "", "HTTP requests routed (both listeners)."},
    Rule{"http.config.token_refused", "ramfleet_http_config_token_refused", "",
         "Config requests refused for their boot token (by reason: ramfleet_http_config_token_refusals_total)."},
    // Families.
    Rule{"dhcp.rx.", "ramfleet_dhcp_received", "type", "DHCP requests received, by message type."},
    Rule{"dhcp.tx.", "ramfleet_dhcp_sent", "type", "DHCP replies sent, by message type."},
    Rule{"dhcp.drop.rate_limited.", "ramfleet_dhcp_rate_limited_by", "limit",
         "DHCP requests dropped by a rate limit, by limit (per MAC, global)."},
    Rule{"dhcp.drop.", "ramfleet_dhcp_dropped", "reason", "DHCP datagrams dropped, by reason."},
    Rule{"dhcp.nak.", "ramfleet_dhcp_naks", "reason", "DHCPNAKs sent, by reason."},
    Rule{"dhcp.boot.none.", "ramfleet_dhcp_no_boot", "reason", "PXE clients answered without boot options, by reason."},
    Rule{"dhcp.boot.", "ramfleet_dhcp_boot_offers", "kind", "Replies carrying boot options, by what they boot."},
    Rule{"tftp.error.", "ramfleet_tftp_errors_sent", "code", "TFTP ERROR packets sent, by error code."},
    Rule{"tftp.drop.malformed.", "ramfleet_tftp_malformed_by_reason", "reason",
         "Malformed TFTP datagrams dropped, by reason."},
    Rule{"tftp.drop.", "ramfleet_tftp_dropped", "reason", "TFTP datagrams dropped, by reason."},
    Rule{"tftp.transfer.", "ramfleet_tftp_transfers_ended", "outcome", "TFTP transfers ended, by outcome."},
    Rule{"tftp.request.", "ramfleet_tftp_requests", "kind", "TFTP requests, by kind."},
    Rule{"tftp.retransmit.", "ramfleet_tftp_retransmits", "cause", "TFTP retransmissions, by cause."},
    Rule{"tftp.ack.", "ramfleet_tftp_acks_ignored", "kind", "TFTP ACKs that moved nothing, by kind."},
    Rule{"http.error.", "ramfleet_http_errors", "reason", "HTTP requests refused or failed, by reason."},
    Rule{"http.config.token_refused.", "ramfleet_http_config_token_refusals", "reason",
         "Config requests refused for their boot token, by reason."},
    Rule{"ra.tx.", "ramfleet_ra_sent", "kind", "IPv6 router advertisements sent, by kind."},
};

std::string flattened(std::string_view counter) {
  std::string out = "ramfleet_";
  for (char c : counter) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    out += keep ? c : '_';
  }
  return out;
}

}  // namespace

CounterMetric counter_metric(std::string_view counter) {
  for (const auto& r : kRules) {
    if (r.label.empty() && counter == r.prefix) return {std::string(r.metric), std::string(r.help), {}};
  }
  const Rule* best = nullptr;
  for (const auto& r : kRules) {
    if (r.label.empty() || !counter.starts_with(r.prefix)) continue;
    const auto rest = counter.substr(r.prefix.size());
    if (rest.empty() || rest.find('.') != std::string_view::npos) continue;
    if (best == nullptr || r.prefix.size() > best->prefix.size()) best = &r;
  }
  if (best != nullptr) {
    return {std::string(best->metric),
            std::string(best->help),
            {{std::string(best->label), std::string(counter.substr(best->prefix.size()))}}};
  }
  return {flattened(counter), "ramfleet counter " + std::string(counter) + ".", {}};
}

void write_counters(Exposition& out, const Counters& counters) {
  for (const auto& [name, value] : counters.all()) {
    const auto m = counter_metric(name);
    out.counter(m.name, m.help, m.labels, static_cast<double>(value));
  }
}

}  // namespace ramfleet::metrics
