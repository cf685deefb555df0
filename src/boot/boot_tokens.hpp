#pragma once
// Boot tokens: the proof that a config request comes from the boot that
// ramfleet just sent an iPXE script to. Rendering a machine's script mints a
// fresh token bound to that machine (its MAC, the address that fetched the
// script, its node name and role); the machine's config URL carries it; a
// config that holds secrets is served once against it, before it expires.
// Checking and spending are separate, so the caller spends only once the
// config is really on its way (never for HEAD, a 304 or a failed compile).
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
  other_machine,  // issued to another machine, or to another node name or role
  wrong_address,  // redeemed from another address than the one that fetched the script
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
  // What a token is good for. An empty address, node or role is not checked.
  struct Binding {
    std::string machine;  // the machine id (MAC, else uuid-..)
    std::string address;  // the IP that fetched the script: the only one that may redeem it
    std::string node;     // the cluster node name it was minted for
    std::string role;     // the cluster role it was minted for
  };

  // A fresh token for `binding`, valid for `ttl` from `now`.
  Issued issue(Binding binding, Clock::time_point now, Clock::duration ttl);
  Issued issue(std::string_view machine_id, Clock::time_point now, Clock::duration ttl) {
    return issue(Binding{std::string(machine_id), {}, {}, {}}, now, ttl);
  }

  // Whether `token` may be redeemed by `asking` now: nullopt when it may, else
  // why not. Uses nothing up: a refused or only checked token stays good for
  // its owner. An empty token is `missing`.
  std::optional<TokenRefusal> check(std::string_view token, const Binding& asking, Clock::time_point now);
  // Uses `token` up (after a successful check, once the config is sent).
  void spend(std::string_view token);

  // check, then spend when accepted.
  std::optional<TokenRefusal> redeem(std::string_view token, std::string_view machine_id, Clock::time_point now) {
    const Binding asking{std::string(machine_id), {}, {}, {}};
    auto why = check(token, asking, now);
    if (!why) spend(token);
    return why;
  }

  [[nodiscard]] std::size_t size() const { return entries_.size(); }
  // Tokens issued and still redeemable at `now`: neither spent nor expired (O(size), for metrics).
  [[nodiscard]] std::size_t outstanding(Clock::time_point now) const {
    std::size_t n = 0;
    for (const auto& [token, e] : entries_) n += (!e.used && e.expires > now) ? 1 : 0;
    return n;
  }
  [[nodiscard]] std::size_t capacity() const { return capacity_; }

 private:
  struct Entry {
    Binding binding;
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
