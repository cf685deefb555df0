// GET /api/v1/etcd (the membership service's view) and
// GET /etcd/snapshot/<token>: a cold start's snapshot, which holds all of the
// cluster's data. Who may fetch it: only the address the token was minted
// for (the cold start's first member, on its authenticated boot), once,
// before the token expires; anyone else gets 403 and is counted.
#include <fcntl.h>
#include <sys/stat.h>

#include "boot/cluster_node.hpp"
#include "core/log.hpp"
#include "http/router.hpp"

namespace ramfleet::http {

Reply handle_etcd_status(ServiceState& st) {
  if (st.etcd == nullptr) return error_reply(404, "no etcd membership service (cluster.yaml etcd.mode: ramfleet)");
  return text_reply(200, st.etcd->status().dump(2) + "\n", "application/json");
}

Reply handle_etcd_snapshot(ServiceState& st, const Request& req, const std::string& segment) {
  // The URL's last segment is token=<hex>: the logs redact it like a boot token.
  const std::string token = segment.starts_with("token=") ? segment.substr(6) : std::string();
  const auto refuse = [&] {
    st.counters.inc("http.etcd.snapshot_refused");
    return error_reply(403,
                       "snapshot refused: the URL is one-time, expires, and works only from the member it was "
                       "issued to on its authenticated boot");
  };
  if (st.etcd == nullptr || token.empty() || token.size() > 128) return refuse();
  const auto requester = boot::requester_ipv4(peer_of(req).address);
  const auto file = st.etcd->redeem_snapshot(token, requester);
  if (!file) return refuse();
  const int fd = ::open(file->c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  struct stat sb {};
  if (fd < 0 || ::fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    if (fd >= 0) ::close(fd);
    st.counters.inc("http.etcd.snapshot_missing");
    log::error("http.etcd.snapshot_missing", {{"file", file->string()}});
    return error_reply(410, "the snapshot is gone from STATE/etcd/snapshots; boot the member again");
  }
  st.counters.inc("http.etcd.snapshot_served");
  Reply r;
  r.header("Content-Type", "application/octet-stream");
  r.header("Cache-Control", "no-store");
  r.file = std::make_shared<FileHandle>(fd);
  const auto size = static_cast<std::uint64_t>(sb.st_size);
  r.pieces = {BodyPiece{"", 0, size}};
  r.content_length = size;
  return r;
}

}  // namespace ramfleet::http
