#pragma once
// Pacing boots in a storm (docs/scale.md, "Admission control"): when too many
// file replies (kernels, initrds, images) are being sent at once, a further
// one is answered 503 with Retry-After instead, and the client comes back.
// iPXE honours Retry-After on any reply (ipxe src/net/tcp/httpcore.c: the
// transaction is reopened after that many seconds, without failing the
// `kernel` or `initrd` command), so a paced machine loses only the wait,
// while N transfers at once each get 1/N of the link instead of 1/1000.
//
// Sans-IO and single-threaded (the HTTP event loop): a TransferSlot is held by
// the reply until the transport has written it, then released.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace ramfleet::http {

// A held slot; the count goes down when the last copy is destroyed.
using TransferSlot = std::shared_ptr<void>;

class TransferPacer {
 public:
  // A slot while fewer than `limit` are held (0: no limit), else null.
  TransferSlot try_acquire(std::size_t limit) {
    if (limit != 0 && *held_ >= limit) return nullptr;
    ++*held_;
    // The deleter keeps the count alive: a reply may outlive the pacer.
    return TransferSlot(held_.get(), [held = held_](void*) { --*held; });
  }
  [[nodiscard]] std::size_t in_flight() const { return *held_; }

  // Seconds to send in Retry-After: from `base` to 3 x base, spread over
  // consecutive calls (a multiplicative hash of a counter), so the clients
  // paced in one instant do not all come back in the same second. iPXE
  // parses whole seconds; 0 would make it retry at once, so at least 1.
  unsigned retry_after_seconds(std::chrono::seconds base) {
    const auto b = static_cast<std::uint64_t>(base.count() < 1 ? 1 : base.count());
    const std::uint64_t h = (++paced_ * 0x9E3779B97F4A7C15ULL) >> 32;
    return static_cast<unsigned>(b + h % (2 * b + 1));
  }
  [[nodiscard]] std::uint64_t paced() const { return paced_; }

 private:
  std::shared_ptr<std::size_t> held_ = std::make_shared<std::size_t>(0);
  std::uint64_t paced_ = 0;
};

}  // namespace ramfleet::http
