#include "boot/boot_tokens.hpp"

#include <openssl/rand.h>

#include <stdexcept>

#include "core/hex.hpp"

namespace ramfleet::boot {

std::string_view to_string(TokenRefusal r) {
  switch (r) {
    case TokenRefusal::missing:
      return "missing";
    case TokenRefusal::unknown:
      return "unknown";
    case TokenRefusal::reused:
      return "reused";
    case TokenRefusal::expired:
      return "expired";
    case TokenRefusal::other_machine:
      return "other_machine";
    case TokenRefusal::wrong_address:
      return "wrong_address";
  }
  return "?";
}

std::string random_boot_token() {
  unsigned char raw[16];
  if (RAND_bytes(raw, sizeof raw) != 1) throw std::runtime_error("boot token: the system random generator failed");
  return to_hex(ByteView(raw));
}

BootTokenBook::BootTokenBook(std::size_t capacity, RandomToken random)
    : capacity_(capacity == 0 ? 1 : capacity), random_(random ? std::move(random) : RandomToken(random_boot_token)) {}

void BootTokenBook::prune(Clock::time_point now) {
  while (!order_.empty()) {
    auto it = entries_.find(order_.front());
    if (it != entries_.end() && it->second.forget > now) break;
    if (it != entries_.end()) entries_.erase(it);
    order_.pop_front();
  }
}

BootTokenBook::Issued BootTokenBook::issue(Binding binding, Clock::time_point now, Clock::duration ttl) {
  prune(now);
  Issued out;
  while (entries_.size() >= capacity_ && !order_.empty()) {
    auto it = entries_.find(order_.front());
    if (it != entries_.end()) {
      if (!it->second.used && it->second.expires > now) out.evicted_live = true;
      entries_.erase(it);
    }
    order_.pop_front();
  }
  std::string token = random_();
  // A repeat is astronomically unlikely with 128 random bits; an injected
  // generator in a test may repeat, and a token must never name two boots.
  for (int tries = 0; entries_.count(token) != 0; ++tries) {
    if (tries == 8) throw std::runtime_error("boot token: the random source keeps repeating itself");
    token = random_();
  }
  // Remembered for a second lifetime after expiry, so a late or replayed
  // request is told "expired" or "reused" rather than "unknown".
  entries_.emplace(token, Entry{std::move(binding), now + ttl, now + 2 * ttl, false});
  order_.push_back(token);
  out.token = std::move(token);
  return out;
}

std::optional<TokenRefusal> BootTokenBook::check(std::string_view token, const Binding& asking, Clock::time_point now) {
  if (token.empty()) return TokenRefusal::missing;
  prune(now);
  auto it = entries_.find(std::string(token));
  if (it == entries_.end()) return TokenRefusal::unknown;
  const Entry& e = it->second;
  const Binding& b = e.binding;
  auto differs = [](const std::string& minted, const std::string& now_asked) {
    return !minted.empty() && minted != now_asked;
  };
  // Another machine's token is refused without using it up: the machine it
  // belongs to may still be on its way to fetch its config.
  if (b.machine != asking.machine) return TokenRefusal::other_machine;
  if (differs(b.address, asking.address)) return TokenRefusal::wrong_address;
  if (differs(b.node, asking.node) || differs(b.role, asking.role)) return TokenRefusal::other_machine;
  if (e.used) return TokenRefusal::reused;
  if (now >= e.expires) return TokenRefusal::expired;
  return std::nullopt;
}

void BootTokenBook::spend(std::string_view token) {
  if (auto it = entries_.find(std::string(token)); it != entries_.end()) it->second.used = true;
}

}  // namespace ramfleet::boot
