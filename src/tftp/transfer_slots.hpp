#pragma once
// Who holds the server's transfer slots: at most Settings::max_transfers at
// once, and at most Settings::max_transfers_per_client per client IP, so one
// address (or one spoofer) cannot take every slot while others wait. Sans-IO
// bookkeeping; the socket layer asks before opening a transfer and releases
// when it ends.
#include <cstddef>
#include <map>

#include "core/ipv4.hpp"

namespace ramfleet::tftp {

class TransferSlots {
 public:
  enum class Admission { admitted, server_full, client_full };

  TransferSlots(std::size_t max_total, std::size_t max_per_client)
      : max_total_(max_total), max_per_client_(max_per_client) {}

  // Takes a slot for client when one is free (and then the caller must release it).
  Admission acquire(Ipv4 client) {
    if (total_ >= max_total_) return Admission::server_full;
    if (held_by(client) >= max_per_client_) return Admission::client_full;
    ++per_client_[client];
    ++total_;
    return Admission::admitted;
  }
  void release(Ipv4 client) {
    auto it = per_client_.find(client);
    if (it == per_client_.end() || it->second == 0) return;
    --total_;
    if (--it->second == 0) per_client_.erase(it);  // the map holds only clients with transfers
  }
  [[nodiscard]] std::size_t total() const { return total_; }
  [[nodiscard]] std::size_t held_by(Ipv4 client) const {
    auto it = per_client_.find(client);
    return it == per_client_.end() ? 0 : it->second;
  }
  [[nodiscard]] std::size_t clients() const { return per_client_.size(); }

 private:
  std::size_t max_total_;
  std::size_t max_per_client_;
  std::size_t total_ = 0;
  std::map<Ipv4, std::size_t> per_client_;
};

}  // namespace ramfleet::tftp
