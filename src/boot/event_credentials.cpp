#include "boot/event_credentials.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>

#include "core/hex.hpp"

namespace ramfleet::boot {

namespace {
constexpr std::size_t kMacHex = 32;  // 128 bits of the HMAC, in hex
constexpr std::string_view kContext = "ramfleet event credential v1";
}  // namespace

std::string_view to_string(EventRefusal r) {
  switch (r) {
    case EventRefusal::missing:
      return "missing";
    case EventRefusal::malformed:
      return "malformed";
    case EventRefusal::other_machine:
      return "other_machine";
    case EventRefusal::earlier_boot:
      return "earlier_boot";
  }
  return "?";
}

std::string random_event_secret() {
  std::string s(EventCredentials::kSecretBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(s.data()), static_cast<int>(s.size())) != 1) {
    throw std::runtime_error("event credentials: the system random generator failed");
  }
  return s;
}

EventCredentials::EventCredentials(std::string secret, std::size_t capacity)
    : secret_(std::move(secret)), capacity_(capacity == 0 ? 1 : capacity) {
  if (secret_.size() < kSecretBytes) {
    throw std::invalid_argument("event credentials: the secret must hold at least 32 bytes");
  }
}

std::string EventCredentials::mac(std::string_view machine, std::int64_t boot) const {
  // Context, machine and boot separated by NUL: a machine id never holds one,
  // so no two (machine, boot) pairs hash the same text.
  std::string text(kContext);
  text.push_back('\0');
  text.append(machine);
  text.push_back('\0');
  text.append(std::to_string(boot));
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
           reinterpret_cast<const unsigned char*>(text.data()), text.size(), out, &len) == nullptr) {
    throw std::runtime_error("event credentials: HMAC-SHA256 failed");
  }
  return to_hex(ByteView(out, kMacHex / 2));
}

void EventCredentials::remember(std::string_view machine, std::int64_t boot) {
  auto [it, fresh] = latest_.try_emplace(std::string(machine), boot);
  if (!fresh) it->second = boot;
  order_.emplace_back(it->first, boot);
  // Oldest boots first: an entry whose machine booted again since is stale and just dropped.
  while (latest_.size() > capacity_ && !order_.empty()) {
    auto old = latest_.find(order_.front().first);
    if (old != latest_.end() && old->second == order_.front().second) latest_.erase(old);
    order_.pop_front();
  }
  // A machine that boots again and again leaves stale entries behind: compact
  // so the queue stays within twice the table.
  if (order_.size() > 2 * capacity_) {
    std::erase_if(order_, [&](const auto& e) {
      auto m = latest_.find(e.first);
      return m == latest_.end() || m->second != e.second;
    });
  }
}

std::string EventCredentials::issue(std::string_view machine, std::int64_t now_ms) {
  std::int64_t boot = std::max<std::int64_t>(now_ms, 0);
  // Strictly increasing per machine, so two boots in one millisecond (or a
  // clock stepped back) still get distinct credentials and the newest wins.
  if (auto it = latest_.find(std::string(machine)); it != latest_.end() && boot <= it->second) boot = it->second + 1;
  remember(machine, boot);
  return std::to_string(boot) + "." + mac(machine, boot);
}

bool EventCredentials::remembers(std::string_view machine) const { return latest_.count(std::string(machine)) != 0; }

std::optional<EventRefusal> EventCredentials::check(std::string_view machine, std::string_view credential,
                                                    std::optional<std::int64_t> floor_ms) {
  if (credential.empty()) return EventRefusal::missing;
  if (credential.size() > kMaxLength) return EventRefusal::malformed;
  const auto dot = credential.find('.');
  if (dot == std::string_view::npos || dot == 0 || credential.size() - dot - 1 != kMacHex) {
    return EventRefusal::malformed;
  }
  // One spelling per boot: "007.<mac>" would otherwise pass as "7.<mac>".
  if (credential[0] == '0' && dot > 1) return EventRefusal::malformed;
  std::int64_t boot = 0;
  const char* first = credential.data();
  const char* last = first + dot;
  if (auto [end, ec] = std::from_chars(first, last, boot); ec != std::errc{} || end != last || boot < 0) {
    return EventRefusal::malformed;
  }
  const auto presented = credential.substr(dot + 1);
  if (presented.find_first_not_of("0123456789abcdef") != std::string_view::npos) return EventRefusal::malformed;
  const std::string expected = mac(machine, boot);
  // Constant time: how much of a guess matched must not show in the timing.
  if (CRYPTO_memcmp(expected.data(), presented.data(), kMacHex) != 0) return EventRefusal::other_machine;
  if (auto it = latest_.find(std::string(machine)); it != latest_.end()) {
    if (boot < it->second) return EventRefusal::earlier_boot;
    if (boot > it->second) remember(machine, boot);  // issued by us, so newer: cannot happen unless forgotten
    return std::nullopt;
  }
  if (floor_ms && boot < *floor_ms) return EventRefusal::earlier_boot;
  remember(machine, boot);
  return std::nullopt;
}

std::string_view bearer_credential(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size()) return {};
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    const char c = authorization[i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != kScheme[i]) return {};
  }
  auto rest = authorization.substr(kScheme.size());
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\t')) rest.remove_suffix(1);
  return rest;
}

}  // namespace ramfleet::boot
