// /assets/<path>: files under the assets directory, confined to it.
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <string_view>

#include "core/log.hpp"
#include "http/asset_path.hpp"
#include "http/router.hpp"

namespace ramfleet::http {

namespace {
std::string_view peer_address(const Request& req) {
  const std::string_view peer = req.peer;
  return peer.substr(0, peer.rfind(':'));
}

// The asset's path as asked for, query cut, for the boot report.
std::string_view asset_name(const Request& req) {
  const std::string_view t = req.target;
  return t.substr(0, std::min<std::size_t>(t.find('?'), 200));
}

// Too many files being sent: come back later (pacing.hpp). Counted, and logged
// at most once per 10 s with how many were paced since.
Reply paced(ServiceState& st, const Request& req, std::string_view asset) {
  st.counters.inc("http.paced.assets");
  const unsigned wait = st.file_transfers.retry_after_seconds(
      std::chrono::duration_cast<std::chrono::seconds>(st.settings.limits.retry_after));
  st.progress.asset_paced(peer_address(req), asset, wait, now_ms());
  if (auto held_back = st.paced_log.admit(std::chrono::steady_clock::now())) {
    log::warn("http.paced", {{"peer", req.peer},
                             {"in_flight", st.file_transfers.in_flight()},
                             {"max_file_transfers", st.settings.limits.max_file_transfers},
                             {"retry_after_s", wait},
                             {"not_logged_since_last", *held_back}});
  }
  auto r = error_reply(503, "busy: " + std::to_string(st.file_transfers.in_flight()) +
                                " files are being sent (http.max_file_transfers); retry after " + std::to_string(wait) +
                                " s");
  r.header("Retry-After", std::to_string(wait));
  return r;
}
}  // namespace

Reply handle_asset(ServiceState& st, const Request& req, const std::vector<std::string>& segments) {
  if (st.assets_root.empty()) {
    st.counters.inc("http.assets.not_found");
    return error_reply(404, "no assets directory configured");
  }
  auto resolved = resolve_asset(st.assets_root, segments);
  if (auto* refusal = std::get_if<AssetRefusal>(&resolved)) {
    if (refusal->kind == AssetRefusal::Kind::traversal) {
      st.counters.inc("http.assets.traversal_refused");
      log::warn("http.assets.refused",
                {{"peer", req.peer}, {"target", req.target.substr(0, 200)}, {"reason", refusal->reason}});
      return error_reply(403, "refused: " + refusal->reason);
    }
    st.counters.inc("http.assets.not_found");
    return error_reply(404, "no such asset");
  }
  const auto& path = std::get<std::filesystem::path>(resolved);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    st.counters.inc("http.assets.not_found");
    return error_reply(404, "no such asset");
  }
  auto file = std::make_shared<FileHandle>(fd);
  struct stat sb {};
  if (::fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    st.counters.inc("http.assets.not_found");
    return error_reply(404, "no such asset");
  }
  FileInfo info{static_cast<std::uint64_t>(sb.st_size), sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec,
                content_type_for(path.filename().string())};
  AssetConditions c{req.method == Method::head, req.range, req.if_range, req.if_none_match, req.if_modified_since};
  char boundary[32];
  std::snprintf(boundary, sizeof boundary, "ramfleet%012llu", static_cast<unsigned long long>(++st.boundary_seq));
  auto plan = plan_asset_response(info, c, boundary);
  // Only a reply that sends file bytes takes a transfer slot: HEAD, 304 and
  // 416 cost nothing worth pacing.
  TransferSlot slot;
  if (req.method == Method::get && (plan.status == 200 || plan.status == 206) && plan.content_length > 0) {
    slot = st.file_transfers.try_acquire(st.settings.limits.max_file_transfers);
    if (!slot) return paced(st, req, asset_name(req));
  }
  if (plan.status == 416) st.counters.inc("http.range.unsatisfiable");
  if (plan.status == 206) st.counters.inc("http.range.partial");
  if (plan.range_ignored) st.counters.inc("http.range.whole_file_cheaper");
  if (plan.status == 304) st.counters.inc("http.assets.not_modified");
  st.counters.inc("http.assets.served");
  // The kernel milestone of a boot (boot_phases.hpp): the first asset its script's address asks for.
  if (req.method == Method::get) {
    st.phases.asset_requested(peer_address(req), std::chrono::steady_clock::now());
    st.progress.asset_requested(peer_address(req), asset_name(req), now_ms());
  }
  Reply r;
  r.status = plan.status;
  for (auto& [k, v] : plan.headers) {
    if (k != "Content-Length") r.header(std::move(k), std::move(v));
  }
  r.file = std::move(file);
  r.pieces = std::move(plan.body);
  r.content_length = plan.content_length;
  r.hold = std::move(slot);
  return r;
}

}  // namespace ramfleet::http
