#pragma once
// Named event counters ("dhcp.drop.bad_cookie", "tftp.error.access_violation"...).
// Every rejected input is counted under a reason so operators can see what the
// network throws at the server. Single-threaded: owned by one event loop.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace ramfleet {

class Counters {
 public:
  void inc(std::string_view name, std::uint64_t by = 1) {
    auto it = values_.find(name);
    if (it == values_.end()) {
      values_.emplace(std::string(name), by);
    } else {
      it->second += by;
    }
  }
  [[nodiscard]] std::uint64_t get(std::string_view name) const {
    auto it = values_.find(name);
    return it == values_.end() ? 0 : it->second;
  }
  [[nodiscard]] const std::map<std::string, std::uint64_t, std::less<>>& all() const { return values_; }

 private:
  std::map<std::string, std::uint64_t, std::less<>> values_;
};

}  // namespace ramfleet
