#pragma once
// Event credentials: what a node shows when it reports a boot phase
// (POST /api/v1/machines/{id}/events, docs/security.md). Each boot of a
// machine gets its own: rendering its iPXE script issues one, bound to the
// machine, and from then on every credential of an earlier boot of it is
// refused.
//
// A credential is "<boot>.<mac>": <boot> is the boot's marker (the wall-clock
// millisecond its script was rendered, made strictly increasing per machine)
// and <mac> the first 128 bits of HMAC-SHA256(server secret, machine id,
// boot), in hex. So nothing per credential is stored: the server keeps its
// secret (STATE/event-credential.key, event_secret.hpp) and, per machine, the
// marker of its latest boot. That table is bounded: a machine it forgot
// (eviction, a serve restart) is judged against the caller's floor, its last
// boot in the machine store, so an earlier boot's credential stays refused.
//
// Sans-IO: the caller passes the clock and the floor; unit-tested without a
// server (tests/unit/boot/event_credentials_test.cpp).
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace ramfleet::boot {

enum class EventRefusal {
  missing,        // no credential at all: 401
  malformed,      // not "<boot>.<32 hex>": 401
  other_machine,  // not issued to this machine (another machine's, or forged): 403
  earlier_boot,   // this machine's, from a boot before its latest one: 403
};
std::string_view to_string(EventRefusal r);
// 401 for a request that did not show a credential of ours, 403 for one that
// did and is not good for this machine now.
inline bool unauthenticated(EventRefusal r) { return r == EventRefusal::missing || r == EventRefusal::malformed; }

// 32 random bytes from the system's generator: a fresh server secret.
std::string random_event_secret();

class EventCredentials {
 public:
  static constexpr std::size_t kSecretBytes = 32;
  static constexpr std::size_t kDefaultCapacity = 65536;
  // The longest credential we issue (a 19-digit marker, '.', 32 hex); longer ones are malformed.
  static constexpr std::size_t kMaxLength = 52;

  // `secret` must hold at least kSecretBytes bytes (std::invalid_argument otherwise).
  explicit EventCredentials(std::string secret, std::size_t capacity = kDefaultCapacity);

  // A new boot of `machine` at `now_ms` (ms since the epoch): its credential.
  // Every earlier credential of the machine is refused from now on.
  std::string issue(std::string_view machine, std::int64_t now_ms);

  // Whether `credential` is good for `machine`'s latest boot; nullopt when it
  // is. `floor_ms`: for a machine this table does not remember, the time of
  // its latest boot known elsewhere (the machine store); credentials of boots
  // before it are earlier_boot. An accepted credential of a forgotten machine
  // is remembered again.
  std::optional<EventRefusal> check(std::string_view machine, std::string_view credential,
                                    std::optional<std::int64_t> floor_ms = std::nullopt);

  [[nodiscard]] bool remembers(std::string_view machine) const;
  [[nodiscard]] std::size_t size() const { return latest_.size(); }
  [[nodiscard]] std::size_t capacity() const { return capacity_; }

 private:
  [[nodiscard]] std::string mac(std::string_view machine, std::int64_t boot) const;
  void remember(std::string_view machine, std::int64_t boot);

  std::string secret_;
  std::size_t capacity_;
  std::unordered_map<std::string, std::int64_t> latest_;    // machine -> marker of its latest boot
  std::deque<std::pair<std::string, std::int64_t>> order_;  // (machine, marker) in issue order, for eviction
};

// The credential in an Authorization header: "Bearer <credential>" (scheme
// case-insensitive, RFC 6750); empty when there is none or it is another scheme.
std::string_view bearer_credential(std::string_view authorization);

}  // namespace ramfleet::boot
