#include "report.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <vector>

namespace storm {

const char* phase_name(std::size_t p) {
  static const char* names[] = {"dhcp", "tftp", "ipxe-dhcp", "scripts", "ipxe", "kernel+initrd", "config", "events"};
  return p < kPhaseCount ? names[p] : "?";
}

namespace {
struct PhaseStats {
  std::size_t n = 0;
  double p50 = 0, p99 = 0, max = 0;
};

// Nearest-rank percentile over the machines that went through the phase.
PhaseStats phase_stats(const Storm& storm, std::size_t p) {
  std::vector<double> v;
  for (const auto& m : storm.machines)
    if (m.result.seen[p]) v.push_back(m.result.ms[p]);
  PhaseStats s;
  s.n = v.size();
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  auto rank = [&](double q) {
    auto i = static_cast<std::size_t>(q * static_cast<double>(v.size()) + 0.999999);
    return v[std::min(v.size(), std::max<std::size_t>(i, 1)) - 1];
  };
  s.p50 = rank(0.50);
  s.p99 = rank(0.99);
  s.max = v.back();
  return s;
}

std::map<std::string, int> failure_reasons(const Storm& storm) {
  std::map<std::string, int> out;
  for (const auto& m : storm.machines) {
    if (m.result.ready) continue;
    // Group by the reason without the URL's machine-specific parts.
    auto why = m.result.failure.empty() ? std::string("not finished") : m.result.failure;
    auto q = why.find('?');
    if (q != std::string::npos) why = why.substr(0, q) + "?...";
    out[why.substr(0, 160)]++;
  }
  return out;
}

std::string esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) o += c;
  }
  return o;
}
}  // namespace

Summary summarise(const Storm& storm) {
  Summary s;
  s.clients = static_cast<int>(storm.machines.size());
  std::set<std::string> leases;
  for (const auto& m : storm.machines) {
    const auto& r = m.result;
    if (r.ready) {
      ++s.ready;
      s.all_ready_s = std::max(s.all_ready_s, r.ready_at_ms / 1000.0);
      leases.insert(r.lease);
    }
    s.retries += r.retries;
    s.bytes += r.bytes;
  }
  s.failed = s.clients - s.ready;
  s.distinct_leases = static_cast<int>(leases.size());
  s.wall_s = storm.since_start_ms() / 1000.0;
  return s;
}

void print_report(const Storm& storm, const Summary& s, std::ostream& out) {
  char line[256];
  out << "storm: " << storm.opt.label << ": " << s.ready << "/" << s.clients << " ready, " << s.failed << " failed, "
      << s.retries << " retries, " << s.distinct_leases << " distinct leases";
  std::snprintf(line, sizeof line, ", all ready in %.2f s, %.1f MiB received\n", s.all_ready_s,
                static_cast<double>(s.bytes) / (1 << 20));
  out << line;
  std::snprintf(line, sizeof line, "  %-14s %6s %10s %10s %10s\n", "phase", "n", "p50 ms", "p99 ms", "max ms");
  out << line;
  for (std::size_t p = 0; p < kPhaseCount; ++p) {
    auto ps = phase_stats(storm, p);
    std::snprintf(line, sizeof line, "  %-14s %6zu %10.1f %10.1f %10.1f\n", phase_name(p), ps.n, ps.p50, ps.p99,
                  ps.max);
    out << line;
  }
  for (const auto& [why, n] : failure_reasons(storm)) out << "  failed x" << n << ": " << why << "\n";
  for (const auto& [why, n] : storm.retry_reasons) out << "  retried x" << n << ": " << why << "\n";
}

std::string report_json(const Storm& storm, const Summary& s) {
  std::string j = "{\"label\":\"" + esc(storm.opt.label) + "\",\"clients\":" + std::to_string(s.clients) +
                  ",\"ready\":" + std::to_string(s.ready) + ",\"failed\":" + std::to_string(s.failed) +
                  ",\"retries\":" + std::to_string(s.retries) +
                  ",\"distinct_leases\":" + std::to_string(s.distinct_leases) +
                  ",\"all_ready_s\":" + std::to_string(s.all_ready_s) + ",\"wall_s\":" + std::to_string(s.wall_s) +
                  ",\"bytes\":" + std::to_string(s.bytes) + ",\"phases\":{";
  for (std::size_t p = 0; p < kPhaseCount; ++p) {
    auto ps = phase_stats(storm, p);
    if (p) j += ",";
    j += "\"" + std::string(phase_name(p)) + "\":{\"n\":" + std::to_string(ps.n) +
         ",\"p50_ms\":" + std::to_string(ps.p50) + ",\"p99_ms\":" + std::to_string(ps.p99) +
         ",\"max_ms\":" + std::to_string(ps.max) + "}";
  }
  j += "},\"failures\":{";
  bool first = true;
  for (const auto& [why, n] : failure_reasons(storm)) {
    if (!first) j += ",";
    first = false;
    j += "\"" + esc(why) + "\":" + std::to_string(n);
  }
  j += "},\"retry_reasons\":{";
  first = true;
  for (const auto& [why, n] : storm.retry_reasons) {
    if (!first) j += ",";
    first = false;
    j += "\"" + esc(why) + "\":" + std::to_string(n);
  }
  j += "},\"machines\":[";
  for (std::size_t i = 0; i < storm.machines.size(); ++i) {
    const auto& m = storm.machines[i];
    if (i) j += ",";
    j += "{\"mac\":\"" + m.mac.str() + "\",\"ready\":" + (m.result.ready ? "true" : "false") + ",\"lease\":\"" +
         m.result.lease + "\",\"pxe_lease\":\"" + m.result.pxe_lease +
         "\",\"ready_s\":" + std::to_string(m.result.ready_at_ms / 1000.0) + ",\"ms\":{";
    bool f0 = true;
    for (std::size_t p = 0; p < kPhaseCount; ++p) {
      if (!m.result.seen[p]) continue;
      if (!f0) j += ",";
      f0 = false;
      j += "\"" + std::string(phase_name(p)) + "\":" + std::to_string(static_cast<long>(m.result.ms[p]));
    }
    j += "},\"phases\":[";
    bool f = true;
    for (std::size_t p = 0; p < kPhaseCount; ++p) {
      if (!m.result.seen[p]) continue;
      if (!f) j += ",";
      f = false;
      j += "\"" + std::string(phase_name(p)) + "\"";
    }
    j += "]";
    if (!m.result.ready) j += ",\"failure\":\"" + esc(m.result.failure) + "\"";
    j += "}";
  }
  j += "]}\n";
  return j;
}

}  // namespace storm
