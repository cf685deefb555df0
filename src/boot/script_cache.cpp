#include "boot/script_cache.hpp"

namespace ramfleet::boot {

void ScriptCache::key_for(std::string_view target, std::string_view host) {
  key_.assign(target);
  key_.push_back('\n');  // cannot occur in a parsed target or Host value
  key_.append(host);
}

void CachedBoot::cut_slots(std::string_view token_slot, std::string_view credential_slot) {
  token_at.clear();
  credential_at.clear();
  auto next = [&](std::string_view slot, std::size_t from) {
    return slot.empty() ? std::string::npos : script.find(slot, from);
  };
  std::string out;
  std::size_t from = 0;
  for (;;) {
    const auto t = next(token_slot, from);
    const auto c = next(credential_slot, from);
    if (t == std::string::npos && c == std::string::npos) break;
    const bool token = c == std::string::npos || (t != std::string::npos && t < c);
    const auto at = token ? t : c;
    if (out.empty()) out.reserve(script.size());
    out.append(script, from, at - from);
    (token ? token_at : credential_at).push_back(out.size());
    from = at + (token ? token_slot : credential_slot).size();
  }
  if (token_at.empty() && credential_at.empty()) return;
  out.append(script, from);
  script = std::move(out);
}

std::string CachedBoot::script_with(std::string_view token, std::string_view credential) const {
  std::string out;
  out.reserve(script.size() + token_at.size() * token.size() + credential_at.size() * credential.size());
  std::size_t from = 0;
  auto t = token_at.begin();
  auto c = credential_at.begin();
  while (t != token_at.end() || c != credential_at.end()) {
    // Equal offsets mean adjacent slots; only a token can be the first of
    // such a pair (it ends a config URL, and nothing renders a URL right
    // after a credential), so the token goes first.
    const bool is_token = c == credential_at.end() || (t != token_at.end() && *t <= *c);
    const std::size_t at = is_token ? *t++ : *c++;
    out.append(script, from, at - from);
    out.append(is_token ? token : credential);
    from = at;
  }
  out.append(script, from);
  return out;
}

std::size_t ScriptCache::cost(const std::string& key, const CachedBoot& b) {
  return key.size() + b.machine_id.size() + b.facts_json.size() + b.group.size() + b.profile.size() + b.reason.size() +
         b.script.size() + (b.token_at.size() + b.credential_at.size()) * sizeof(std::size_t) + sizeof(CachedBoot) +
         64;  // 64: node and bucket overhead, roughly
}

const CachedBoot* ScriptCache::find(std::uint64_t generation, std::string_view target, std::string_view host) {
  if (generation != generation_) {
    entries_.clear();
    bytes_ = 0;
    generation_ = generation;
    return nullptr;
  }
  if (target.size() > kMaxTarget) return nullptr;
  key_for(target, host);
  auto it = entries_.find(key_);
  return it == entries_.end() ? nullptr : &it->second;
}

void ScriptCache::put(std::uint64_t generation, std::string_view target, std::string_view host, CachedBoot boot) {
  if (target.size() > kMaxTarget) return;
  if (generation != generation_) {
    entries_.clear();
    bytes_ = 0;
    generation_ = generation;
  }
  key_for(target, host);
  const std::size_t c = cost(key_, boot);
  if (c > max_bytes_) return;
  if (auto it = entries_.find(key_); it != entries_.end()) {
    bytes_ -= cost(it->first, it->second);
    entries_.erase(it);
  }
  // Over budget: drop arbitrary entries (hash order). A dropped machine is
  // rendered again on its next request; nothing is lost.
  while (bytes_ + c > max_bytes_ && !entries_.empty()) {
    auto victim = entries_.begin();
    bytes_ -= cost(victim->first, victim->second);
    entries_.erase(victim);
  }
  bytes_ += c;
  entries_.emplace(key_, std::move(boot));
}

}  // namespace ramfleet::boot
