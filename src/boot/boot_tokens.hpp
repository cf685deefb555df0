#pragma once
// Boot tokens: the proof that a config request comes from the boot that
// ramfleet just sent an iPXE script to. Rendering a machine's script mints a
// fresh token bound to that machine; the machine's config URL carries it; a
// config that holds secrets is served once against it, before it expires.
//
// Sans-IO: the caller passes the time (any steady clock) and may inject the
// random source, so single use, expiry, machine binding and the size bound
// are unit-tested without sleeping. Memory is bounded: at most `capacity`
// tokens are remembered, the oldest dropped first, so a flood of /ipxe
// requests costs a fixed amount of memory (and evicts old tokens, counted).
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace ramfleet::boot {

// 32 lowercase hex digits from the system's random generator (128 bits).
std::string random_boot_token();

enum class TokenRefusal {
  missing,        // the request carried no token
  unknown,        // never issued, or forgotten (older than twice its lifetime, or evicted)
  reused,         // already redeemed once
  expired,        // issued, never used, past its lifetime
  other_machine,  // issued to another machine
};
std::string_view to_string(TokenRefusal r);

class BootTokenBook {
 public:
  using Clock = std::chrono::steady_clock;
  // 32 lowercase hex digits (128 bits) by default; what it returns must stay
  // intact in an iPXE script and a URL path ([a-z0-9] is safe).
  using RandomToken = std::function<std::string()>;

  static constexpr std::size_t kDefaultCapacity = 16384;

  explicit BootTokenBook(std::size_t capacity = kDefaultCapacity, RandomToken random = {});

  struct Issued {
    std::string token;
    bool evicted_live = false;  // a still-valid token was dropped to make room
  };
  // A fresh token for `machine_id`, valid for `ttl` from `now`.
  Issued issue(std::string_view machine_id, Clock::time_point now, Clock::duration ttl);

  // Redeems `token` for `machine_id`: nullopt when accepted (the token is then
  // used up), else why it is refused. An empty token is `missing`.
  std::optional<TokenRefusal> redeem(std::string_view token, std::string_view machine_id, Clock::time_point now);

  [[nodiscard]] std::size_t size() const { return entries_.size(); }
  [[nodiscard]] std::size_t capacity() const { return capacity_; }

 private:
  struct Entry {
    std::string machine;
    Clock::time_point expires;
    Clock::time_point forget;  // after this, the token is not remembered at all
    bool used = false;
  };
  void prune(Clock::time_point now);

  std::size_t capacity_;
  RandomToken random_;
  std::unordered_map<std::string, Entry> entries_;
  std::deque<std::string> order_;  // issue order: pruning and eviction take the oldest first
};

}  // namespace ramfleet::boot
