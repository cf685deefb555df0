// POST /api/v1/machines/{id}/p2p/{image_id} on the boot listener: the p2p
// tracker (boot/chunk_tracker.hpp, docs/scale.md). Who may: the node itself,
// on its current boot, with the event credential its iPXE script gave it
// (node_auth.hpp: none 401, another's or an earlier boot's 403). The address
// other nodes are sent to is this request's source IP with the announced
// port, never an address the body claims, so a node can only offer itself.
// Bad bodies, unknown images and indices beyond the image are 400/404 and
// counted (http.p2p.*); the body is read only once the sender is
// authenticated.
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/hex.hpp"
#include "core/log.hpp"
#include "http/api_reply.hpp"
#include "http/node_auth.hpp"
#include "http/p2p_body.hpp"
#include "http/router.hpp"
#include "stage1/chunk_manifest.hpp"

namespace ramfleet::http {
using json = nlohmann::json;

namespace {
constexpr std::size_t kMaxManifestFile = 8U << 20U;

// The chunk count of an image ramfleet serves, from its chunks.json (written
// by `ramfleet image build`); nullopt when there is none or it is not a
// manifest of this image. Read once per image: the tracker remembers it.
std::optional<std::uint32_t> chunk_count(const ServiceState& st, const std::string& image) {
  if (st.assets_root.empty()) return std::nullopt;
  std::ifstream in(st.assets_root / "images" / image / "chunks.json", std::ios::binary);
  if (!in) return std::nullopt;
  std::string text(kMaxManifestFile + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  std::string error;
  auto m = stage1::parse_chunk_manifest(text, error);
  if (!m || m->image_id != image) {
    log::warn("p2p.bad_chunk_manifest", {{"image", image}, {"error", m ? "another image's manifest" : error}});
    return std::nullopt;
  }
  return static_cast<std::uint32_t>(m->chunks.size());
}

// "10.99.0.12:7480" from the connection's "10.99.0.12:53422" and the port
// the node serves on ("[fd00::5]:7480" for IPv6).
std::string peer_address(const std::string& conn, std::uint16_t port) {
  const auto colon = conn.rfind(':');
  std::string ip = colon == std::string::npos ? conn : conn.substr(0, colon);
  if (ip.find(':') != std::string::npos) ip = "[" + ip + "]";
  return ip + ":" + std::to_string(port);
}

Reply refused(ServiceState& st, const char* counter, int status, const std::string& message) {
  st.counters.inc(counter);
  return error_reply(status, message);
}
}  // namespace

Reply handle_p2p_announce(ServiceState& st, const Request& req, const std::string& machine,
                          const std::string& image_id) {
  const auto id = normalise_machine_id(machine);
  if (!st.store) return error_reply(503, "no state directory configured");
  try {
    if (auto r = authenticate_node(st, req, id, "p2p")) return std::move(*r);
  } catch (const std::exception& e) {
    st.counters.inc("http.api.store_error");
    log::error("http.api.store_error", {{"error", e.what()}});
    return error_reply(500, std::string("store error: ") + e.what());
  }
  if (!is_sha256_hex(image_id))
    return refused(st, "http.p2p.bad_image", 400, "the image id must be 64 lower-case hex digits");
  const auto now = std::chrono::steady_clock::now();
  if (!st.chunk_tracker.knows(image_id)) {
    const auto count = chunk_count(st, image_id);
    if (!count)
      return refused(st, "http.p2p.unknown_image", 404,
                     "no chunk manifest for image " + image_id + " (ramfleet image build writes chunks.json)");
    st.chunk_tracker.add_image(image_id, *count, now);
  }
  auto parsed = parse_p2p_body(req.body);
  if (!parsed.announce) {
    log::warn("http.p2p.bad_body", {{"peer", req.peer}, {"machine", id}, {"error", parsed.error}});
    return refused(st, "http.p2p.bad_body", 400, parsed.error);
  }
  boot::Announce a{id, peer_address(req.peer, parsed.announce->port), std::move(parsed.announce->have),
                   std::move(parsed.announce->want)};
  boot::TrackerRefusal why{};
  const auto answer = st.chunk_tracker.announce(image_id, a, now, why);
  switch (why) {
    case boot::TrackerRefusal::none:
      break;
    case boot::TrackerRefusal::bad_index:
      return refused(st, "http.p2p.bad_index", 400, "a chunk index is beyond the image's last chunk");
    case boot::TrackerRefusal::image_full: {
      // The node takes its chunks from ramfleet (its bounded wait runs out).
      auto r = refused(st, "http.p2p.image_full", 503, "too many peers on this image; fetch it from the server");
      r.header("Retry-After", "5");
      return r;
    }
    case boot::TrackerRefusal::unknown_image:  // forgotten between add_image and announce: cannot happen
      return refused(st, "http.p2p.unknown_image", 404, "image not tracked");
  }
  st.counters.inc("http.p2p.announces");
  json sources = json::object();
  for (const auto& s : answer.sources)
    sources[std::to_string(s.chunk)] = s.server ? json::array({"server"}) : json(s.peers);
  return json_reply(200, json{{"sources", std::move(sources)}, {"retry_ms", answer.retry.count()}});
}

}  // namespace ramfleet::http
