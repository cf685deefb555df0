#pragma once
// The chunks this node holds, served to other nodes (docs/scale.md):
//   GET /p2p/v1/{image_id}/{index} -> 200 the chunk's bytes, 404 not held
//   (or another image), 503 busy (too many connections), 400 anything else.
// Plain HTTP/1.1, one request per connection. Bounded: `max_connections`
// served at once (the next gets 503 at once), a request head of at most
// 2 KiB, and every read and write under `io_timeout`. Receivers check each
// chunk against the manifest, so this side needs no authentication: it only
// hands out bytes ramfleet already publishes.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace ramfleet::stage1 {

// The chunk's bytes if held, else null; called from the server's threads.
using ChunkLookup = std::function<std::shared_ptr<const std::string>(std::uint32_t)>;

struct PeerServerStats {
  std::atomic<std::uint64_t> served{0}, bytes{0}, not_held{0}, busy{0}, bad{0};
};

class PeerServer {
 public:
  // Binds 0.0.0.0:port (throws std::runtime_error when it cannot).
  PeerServer(std::uint16_t port, std::string image_id, ChunkLookup lookup, unsigned max_connections = 8,
             std::chrono::milliseconds io_timeout = std::chrono::milliseconds(5000));
  ~PeerServer();
  PeerServer(const PeerServer&) = delete;
  PeerServer& operator=(const PeerServer&) = delete;

  void start();
  // Stops accepting and waits for the connections being served (each is
  // bounded by io_timeout). The listening socket stays open for start().
  void stop();
  [[nodiscard]] const PeerServerStats& stats() const { return stats_; }

 private:
  void accept_loop();
  // Answers one request; false when the client closed or went quiet before
  // a whole request (nothing was sent, so the socket is closed at once).
  bool serve(int fd);

  int listen_fd_ = -1;
  std::string image_id_;
  ChunkLookup lookup_;
  unsigned max_connections_;
  std::chrono::milliseconds io_timeout_;
  std::atomic<bool> stopping_{false};
  std::atomic<unsigned> active_{0};
  std::thread acceptor_;
  PeerServerStats stats_;
};

}  // namespace ramfleet::stage1
