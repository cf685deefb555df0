#pragma once
// Durable DHCP leases: the interface the DHCP core writes through (it belongs
// to its user; store/sqlite_lease_store.hpp implements it). The DHCP core keeps
// its working set in memory and writes through to a LeaseStore before it
// answers: when put() returns, the lease survives a crash (RFC 2131 4.3.1:
// commit before sending the ACK).
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/bytes.hpp"
#include "core/ipv4.hpp"
#include "core/mac_address.hpp"

namespace ramfleet::dhcp {

enum class LeaseState : std::uint8_t {
  bound = 1,     // ACKed; the client owns the address until expires_at
  released = 2,  // the client gave it back; it prefers to get it again
  declined = 3,  // a client saw the address in use; quarantined until expires_at
};

struct Lease {
  Ipv4 address;
  MacAddress mac;
  Bytes client_id;  // DHCP option 61, empty when the client sent none
  std::string hostname;
  LeaseState state = LeaseState::bound;
  std::int64_t expires_at = 0;  // unix seconds
  bool operator==(const Lease&) const = default;
};

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class LeaseStore {
 public:
  virtual ~LeaseStore() = default;
  // Every lease, in address order. Throws StoreError.
  virtual std::vector<Lease> load_all() = 0;
  // Inserts or replaces the lease for lease.address; durable on return. Throws StoreError.
  virtual void put(const Lease& lease) = 0;
  // Forgets the address. Throws StoreError.
  virtual void erase(Ipv4 address) = 0;

  // Group commit. Between begin_batch() and commit_batch(), put() and erase()
  // are NOT durable on return: commit_batch() makes all of them durable at
  // once (one fsync for many leases) or throws StoreError, and then none of
  // them is. Whoever opens a batch must hold every reply that depends on its
  // writes (ACKs) until commit_batch() returns. Stores without batching keep
  // every write durable on return.
  virtual void begin_batch() {}
  virtual void commit_batch() {}
};

}  // namespace ramfleet::dhcp
