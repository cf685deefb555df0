#pragma once
// The p2p tracker: ramfleet tells each booting node whom to ask for each
// chunk of its root image (docs/scale.md, "Peer-to-peer images"). Nodes
// announce what they hold and what they want
// (POST /api/v1/machines/{id}/p2p/{image_id}, http/p2p_handlers.cpp); the
// answer names, per wanted chunk, a few peers that hold it, or "server" (take
// it from ramfleet), or nothing yet (ask again after retry_ms).
//
// The grant policy keeps ramfleet's egress low in a storm: a chunk nobody
// holds is granted "server" to at most `server_per_chunk` nodes at a time and
// `server_grants` per image at a time (grants expire, and end when the node
// announces the chunk), so ramfleet sends each chunk about once and the peers
// spread it; every other asker waits. Holders are handed out least recently
// handed out first, so no single peer serves everyone.
//
// Everything a client can grow is bounded: images tracked (least recently
// used forgotten), peers per image (a full image refuses new peers: they fall
// back to ramfleet), holders remembered per chunk (peers re-announce their
// full holdings, so one forgotten comes back), chunks asked per request.
// Peers that stop announcing expire. Sans-IO: the caller passes the clock.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ramfleet::boot {

struct TrackerLimits {
  std::size_t images = 8;               // images tracked at once
  std::size_t peers_per_image = 2048;   // machines per image
  std::size_t holders_per_chunk = 64;   // holders remembered per chunk
  std::size_t wants_per_request = 256;  // wanted chunks answered per request (the rest: ask again)
  std::size_t sources_per_chunk = 3;    // peers named per wanted chunk
  std::size_t server_per_chunk = 1;     // nodes fetching one chunk from ramfleet at once
  std::size_t server_grants = 8;        // nodes fetching any chunk of one image from ramfleet at once
  std::size_t server_grants_per_peer = 2;
  std::chrono::milliseconds grant_ttl{30'000};
  std::chrono::milliseconds peer_ttl{60'000};
  std::chrono::milliseconds retry{500};
};

struct Announce {
  std::string machine;  // authenticated by the caller
  std::string address;  // "10.99.0.12:7480": the request's source IP and the announced port
  std::vector<std::uint32_t> have;
  std::vector<std::uint32_t> want;
};

struct ChunkSources {
  std::uint32_t chunk = 0;
  bool server = false;
  std::vector<std::string> peers;  // when !server
};

struct TrackerAnswer {
  std::vector<ChunkSources> sources;  // wanted chunks with a source; the others: ask again
  std::chrono::milliseconds retry{0};
};

enum class TrackerRefusal { none, unknown_image, image_full, bad_index };

struct TrackerStats {
  std::uint64_t server_grants = 0;   // chunks granted "server"
  std::uint64_t peer_answers = 0;    // chunks answered with peers
  std::uint64_t waits = 0;           // wanted chunks given no source yet
  std::uint64_t grants_expired = 0;  // "server" grants that ran out before the chunk was announced
  std::uint64_t peers_expired = 0;
  std::uint64_t images_forgotten = 0;
  std::uint64_t refused_full = 0;
};

class ChunkTracker {
 public:
  using Clock = std::chrono::steady_clock;
  explicit ChunkTracker(TrackerLimits limits = {}) : limits_(limits) {}

  // Whether `image` is tracked (its chunk count known).
  [[nodiscard]] bool knows(std::string_view image) const { return images_.contains(std::string(image)); }
  // Starts tracking `image` of `chunks` chunks (the least recently used image
  // is forgotten when the table is full). Known images are left as they are.
  void add_image(const std::string& image, std::uint32_t chunks, Clock::time_point now);

  // A node's announce; `refusal` says why there is no answer (bad_index: an
  // index beyond the image, image_full: too many peers on this image).
  TrackerAnswer announce(const std::string& image, const Announce& a, Clock::time_point now, TrackerRefusal& refusal);

  [[nodiscard]] const TrackerStats& stats() const { return stats_; }
  [[nodiscard]] std::size_t images() const { return images_.size(); }
  [[nodiscard]] std::size_t peers(std::string_view image) const;
  [[nodiscard]] std::size_t open_grants(std::string_view image) const;
  [[nodiscard]] const TrackerLimits& limits() const { return limits_; }

 private:
  struct Peer {
    std::string address;
    Clock::time_point seen;
    std::uint64_t handed = 0;  // when last handed out (a sequence number; 0: never)
  };
  struct Grant {
    std::uint32_t chunk;
    std::string machine;
    Clock::time_point expires;
  };
  struct Image {
    std::uint32_t chunk_count = 0;
    Clock::time_point used;
    std::unordered_map<std::string, Peer> peers;    // by machine
    std::vector<std::vector<std::string>> holders;  // per chunk: machines (some may have expired)
    std::vector<Grant> grants;                      // open "server" grants
  };

  void expire(Image& img, Clock::time_point now);
  std::vector<std::string> pick_holders(Image& img, std::uint32_t chunk, const std::string& asker,
                                        Clock::time_point now);
  bool grant_server(Image& img, std::uint32_t chunk, const std::string& asker, Clock::time_point now);

  TrackerLimits limits_;
  std::unordered_map<std::string, Image> images_;
  TrackerStats stats_;
  std::uint64_t handed_seq_ = 0;
};

}  // namespace ramfleet::boot
