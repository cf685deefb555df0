#pragma once
// Rendered /ipxe replies, so a machine that asks again (every boot, a boot
// loop, a rack powering on in waves) costs a lookup instead of query parsing,
// matching and template rendering.
//
// A reply is a pure function of the request target (the facts the machine
// sent), the Host header (the base URL in the script) and the inventory: the
// key is the first two, and every entry belongs to one inventory generation
// (a reload empties the cache on the next lookup). What must still happen per
// request (the boot log line, the boot record, counters) is done by the caller
// from the cached decision.
//
// A script whose config URLs carry a boot token (a machine with a cluster
// role, docs/cluster.md) is cached without it: `token_at` marks where each
// boot's own fresh token goes, so one boot's token is never served to another
// and the rendering is still done once. The same goes for the boot's event
// credential (event_credentials.hpp) where the profile renders
// {{event_credential}}: `credential_at` marks where it goes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "boot/cluster_node.hpp"

namespace ramfleet::boot {

struct CachedBoot {
  std::string machine_id;
  std::string facts_json;
  std::string group;          // empty when unmatched
  std::string profile;        // empty for exit
  std::string_view decision;  // "group", "default_profile", "exit" (static strings)
  std::string reason;
  bool matched = false;
  // Set when the machine takes a cluster role: who the operator says it is,
  // what each boot's token is bound to, and why its name is refused (if it is).
  std::optional<MacAddress> mac;
  std::optional<ClusterIdentity> cluster;
  std::string name_refusal;
  std::string script;                      // the reply body, without boot tokens or event credentials
  std::vector<std::size_t> token_at;       // offsets in `script` where this boot's token goes, ascending
  std::vector<std::size_t> credential_at;  // offsets where this boot's event credential goes, ascending

  [[nodiscard]] bool needs_token() const { return !token_at.empty(); }
  [[nodiscard]] bool needs_credential() const { return !credential_at.empty(); }
  // Removes every `token_slot` and `credential_slot` (placeholders rendered
  // where the token and the credential go) from `script` and records where
  // each was. An empty slot is not looked for.
  void cut_slots(std::string_view token_slot, std::string_view credential_slot);
  void cut_token_slots(std::string_view slot) { cut_slots(slot, {}); }
  // The script with `token` and `credential` at their slots.
  [[nodiscard]] std::string script_with(std::string_view token, std::string_view credential = {}) const;
};

class ScriptCache {
 public:
  // Targets longer than this are not cached (they are not what iPXE sends).
  static constexpr std::size_t kMaxTarget = 1024;

  explicit ScriptCache(std::size_t max_bytes = 32U << 20) : max_bytes_(max_bytes) {}

  // nullptr on a miss, or when `generation` differs from the entries' one.
  const CachedBoot* find(std::uint64_t generation, std::string_view target, std::string_view host);
  void put(std::uint64_t generation, std::string_view target, std::string_view host, CachedBoot boot);

  [[nodiscard]] std::size_t size() const { return entries_.size(); }
  [[nodiscard]] std::size_t bytes() const { return bytes_; }

 private:
  void key_for(std::string_view target, std::string_view host);
  static std::size_t cost(const std::string& key, const CachedBoot& b);

  std::size_t max_bytes_;
  std::size_t bytes_ = 0;
  std::uint64_t generation_ = 0;
  std::unordered_map<std::string, CachedBoot> entries_;
  std::string key_;  // scratch: lookups do not allocate once it has grown
};

}  // namespace ramfleet::boot
