#pragma once
// The full-mode address book: leases (write-through to a LeaseStore), short
// lived offers (memory only: a lost offer just makes the client ask again),
// reservations, and the choice of a free address in a subnet's pools.
//
// Clients are identified by MAC address, not by option 61: on a boot network
// the firmware, iPXE and the booted OS are one machine sending three different
// client identifiers, and it should keep one address through all of them.
#include <cstdint>
#include <map>
#include <optional>

#include "dhcp/lease_store.hpp"
#include "dhcp/settings.hpp"

namespace ramfleet::dhcp {

// How full one pool is, for metrics: `used` addresses are held by a bound
// lease that has not expired; `free` could be offered to a new client now
// (not used, offered, declined, reserved, or the network's own addresses).
struct PoolUsage {
  AddressRange pool;
  std::uint64_t used = 0;
  std::uint64_t free = 0;
};

class LeaseBook {
 public:
  // Loads every lease from store (may be null: then nothing persists). Throws StoreError.
  LeaseBook(const Settings& settings, LeaseStore* store);

  // An address to offer mac on subnet, or nullopt when the pools are exhausted.
  std::optional<Ipv4> choose(const SubnetSettings& subnet, const MacAddress& mac, std::optional<Ipv4> requested,
                             std::int64_t now);
  void hold_offer(Ipv4 address, const MacAddress& mac, std::int64_t until);
  void drop_offer(const MacAddress& mac);

  // May mac be bound to address on subnet now? (reservations, pools, other clients, declines)
  [[nodiscard]] bool acceptable(const SubnetSettings& subnet, Ipv4 address, const MacAddress& mac,
                                std::int64_t now) const;

  // Writes through to the store (throws StoreError, and then nothing changes in memory).
  void commit(const Lease& lease);

  [[nodiscard]] const Lease* lease_at(Ipv4 address) const;
  // The MAC that holds address now: a bound lease that has not expired (offers, declined,
  // released and expired leases hold nothing).
  [[nodiscard]] std::optional<MacAddress> holder_of(Ipv4 address, std::int64_t now) const;
  [[nodiscard]] const Lease* lease_of(const MacAddress& mac) const;
  [[nodiscard]] const Reservation* reservation_of(const MacAddress& mac) const;
  // O(leases + offers + reservations in the pool), not O(pool size): cheap for a scrape.
  [[nodiscard]] PoolUsage usage(const SubnetSettings& subnet, const AddressRange& pool, std::int64_t now) const;

 private:
  struct Offer {
    MacAddress mac;
    std::int64_t until = 0;
  };
  [[nodiscard]] bool usable_in(const SubnetSettings& subnet, Ipv4 address) const;
  [[nodiscard]] bool blocked_for(Ipv4 address, const MacAddress& mac, std::int64_t now) const;

  const Settings& settings_;
  LeaseStore* store_;
  std::map<Ipv4, Lease> leases_;
  std::map<MacAddress, Ipv4> by_mac_;
  std::map<Ipv4, Offer> offers_;
  std::map<MacAddress, Ipv4> offer_by_mac_;
  std::map<MacAddress, const Reservation*> reservations_;
  std::map<Ipv4, MacAddress> reserved_addresses_;
  std::map<Ipv4, std::uint32_t> cursors_;  // per subnet network: where the next pool scan starts
};

}  // namespace ramfleet::dhcp
