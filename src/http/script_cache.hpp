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
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace ramfleet::http {

struct CachedBoot {
  std::string machine_id;
  std::string facts_json;
  std::string group;          // empty when unmatched
  std::string profile;        // empty for exit
  std::string_view decision;  // "group", "default_profile", "exit" (static strings)
  std::string reason;
  bool matched = false;
  std::string script;  // the reply body
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

}  // namespace ramfleet::http
