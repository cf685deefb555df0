#pragma once
// Which chunk of the root image a p2p node fetches next, and from whom
// (docs/scale.md, "Peer-to-peer images"). Sans-IO: the fetcher's threads
// (fetcher/p2p_fetch.cpp) do the HTTP and pass the clock and the bytes in.
//
// The tracker names sources per chunk: peers, or "server". A chunk is taken
// from a named peer that has not failed this node; any failure of a peer
// (connection refused, cut mid-chunk, a wrong byte) bars that peer for the
// rest of the fetch and sends the chunk to ramfleet (an HTTP Range of the
// image), as does a wait with no source that lasts longer than `stall`. A
// peer that does not even accept the connection in time is only rested (not
// asked for 2 s, doubling each time, at most 30 s) and its chunk goes back to
// the tracker: in a storm a swamped peer (or a swamped host network stack)
// is common, and sending all its askers to ramfleet would spend the very link
// p2p saves. A peer that is really gone ends up barred anyway (refused), or
// behind the stall rule.
// Every chunk is checked against the manifest's sha256 before it counts;
// complete chunks are handed out in order (take_prefix) so the root writer
// sees the image's bytes exactly as ramfleet built them, while later chunks
// wait in memory. Held chunks stay in memory to be served to other peers:
// at most the image's size.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "stage1/chunk_manifest.hpp"

namespace ramfleet::stage1 {

struct SchedulerLimits {
  std::size_t parallel = 4;                 // chunks in flight at once
  std::size_t max_want = 16;                // chunks asked for per announce (keeps the tracker's reply small)
  std::size_t max_have = 8000;              // chunks listed per announce (a window that rotates beyond)
  std::chrono::milliseconds stall{10'000};  // no source and no progress this long: take one from ramfleet
};

struct ChunkJob {
  std::uint32_t chunk = 0;
  std::string peer;  // "10.99.0.12:7480"; empty: from ramfleet (HTTP Range)
};

enum class ChunkFailure {
  busy,         // the peer answered 404/503: another source next time, the peer stays
  unreachable,  // no connection within the timeout (gone, or swamped): the peer rests a while
                // (2 s, doubling), the chunk goes back to the tracker's sources
  broken,       // refused, reset, timed out or cut short once connected: the peer is barred, the
                // chunk comes from ramfleet
  corrupt,      // bytes that do not match the manifest: the same
};

struct SchedulerStats {
  std::uint64_t from_peers = 0, from_server = 0, server_fallbacks = 0, corrupt = 0, broken = 0, busy = 0,
                unreachable = 0;
  std::uint64_t bytes_from_peers = 0, bytes_from_server = 0;
};

class ChunkScheduler {
 public:
  using Clock = std::chrono::steady_clock;
  ChunkScheduler(ChunkManifest manifest, SchedulerLimits limits, Clock::time_point now);

  // What to tell the tracker: chunks held (a bounded, rotating window) and
  // chunks wanted (missing, not in flight, nearest the write position first).
  std::vector<std::uint32_t> have_for_announce();
  [[nodiscard]] std::vector<std::uint32_t> want() const;
  // The tracker's answer: chunk -> ["10.0.0.5:7480", ...] or ["server"].
  void on_sources(const std::map<std::uint32_t, std::vector<std::string>>& sources);

  // The next chunk to fetch, or nullopt (all in flight, nothing with a
  // source, or parallel jobs running). Marks the chunk in flight.
  std::optional<ChunkJob> next_job(Clock::time_point now);
  // A finished job's bytes: true when they are the chunk (then it is held);
  // false when they are not (counted as corrupt, like fail(job, corrupt)).
  bool complete(const ChunkJob& job, std::string bytes, Clock::time_point now);
  void fail(const ChunkJob& job, ChunkFailure why, Clock::time_point now = {});
  // The tracker is gone (refused, unreachable): every missing chunk comes
  // from ramfleet from now on.
  void server_only() { server_only_ = true; }

  // Chunks ready to be written, in order, from the write position on; each
  // is returned once. Their bytes stay held for serving.
  std::vector<std::shared_ptr<const std::string>> take_prefix();
  [[nodiscard]] bool complete() const { return written_ == manifest_.chunks.size(); }
  [[nodiscard]] bool all_held() const { return held_count_ == manifest_.chunks.size(); }
  // A held chunk, for serving to a peer; null when not held.
  [[nodiscard]] std::shared_ptr<const std::string> held(std::uint32_t chunk) const;

  [[nodiscard]] const ChunkManifest& manifest() const { return manifest_; }
  [[nodiscard]] const SchedulerStats& stats() const { return stats_; }
  [[nodiscard]] std::size_t in_flight() const { return in_flight_; }
  [[nodiscard]] bool has_free_slot() const { return in_flight_ < limits_.parallel; }
  [[nodiscard]] bool barred(const std::string& peer) const { return barred_.contains(peer); }
  [[nodiscard]] bool resting(const std::string& peer, Clock::time_point now) const;

 private:
  enum class State : std::uint8_t { missing, in_flight, held };
  struct Chunk {
    State state = State::missing;
    bool server_granted = false;   // the tracker said "server"
    bool must_use_server = false;  // a peer failed us on it
    std::vector<std::string> peers;
    std::shared_ptr<const std::string> bytes;
  };
  ChunkManifest manifest_;
  SchedulerLimits limits_;
  std::vector<Chunk> chunks_;
  std::set<std::string> barred_;
  struct Rest {
    Clock::time_point until;
    unsigned times = 0;
  };
  std::map<std::string, Rest> resting_;  // unreachable peers, by address (at most the peers named to us)
  std::size_t written_ = 0;              // chunks handed to take_prefix
  std::size_t held_count_ = 0;
  std::size_t in_flight_ = 0;
  std::size_t have_cursor_ = 0;
  bool server_only_ = false;
  Clock::time_point last_progress_;
  SchedulerStats stats_;
};

}  // namespace ramfleet::stage1
