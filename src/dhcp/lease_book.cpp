#include "dhcp/lease_book.hpp"

#include <algorithm>
#include <vector>

namespace ramfleet::dhcp {

LeaseBook::LeaseBook(const Settings& settings, LeaseStore* store) : settings_(settings), store_(store) {
  for (const auto& r : settings_.reservations) {
    reservations_[r.mac] = &r;
    reserved_addresses_[r.address] = r.mac;
  }
  if (store_ == nullptr) return;
  for (auto& l : store_->load_all()) {
    if (l.state != LeaseState::declined) by_mac_[l.mac] = l.address;
    leases_[l.address] = std::move(l);
  }
}

const Lease* LeaseBook::lease_at(Ipv4 address) const {
  auto it = leases_.find(address);
  return it == leases_.end() ? nullptr : &it->second;
}

std::optional<MacAddress> LeaseBook::holder_of(Ipv4 address, std::int64_t now) const {
  const Lease* l = lease_at(address);
  if (l == nullptr || l->state != LeaseState::bound || l->expires_at <= now) return std::nullopt;
  return l->mac;
}

const Lease* LeaseBook::lease_of(const MacAddress& mac) const {
  auto it = by_mac_.find(mac);
  return it == by_mac_.end() ? nullptr : lease_at(it->second);
}

const Reservation* LeaseBook::reservation_of(const MacAddress& mac) const {
  auto it = reservations_.find(mac);
  return it == reservations_.end() ? nullptr : it->second;
}

PoolUsage LeaseBook::usage(const SubnetSettings& subnet, const AddressRange& pool, std::int64_t now) const {
  PoolUsage u{pool, 0, 0};
  if (pool.last < pool.first) return u;
  const std::uint64_t size = std::uint64_t{pool.last.value()} - pool.first.value() + 1;
  // The few addresses no client may have (network, broadcast, server, router), once each.
  std::vector<std::uint32_t> unusable;
  for (Ipv4 a : {subnet.subnet.network, subnet.subnet.broadcast(), settings_.server_address,
                 subnet.router.value_or(subnet.subnet.network)}) {
    if (pool.contains(a) && !usable_in(subnet, a)) unusable.push_back(a.value());
  }
  std::sort(unusable.begin(), unusable.end());
  const auto usable =
      size - static_cast<std::uint64_t>(std::unique(unusable.begin(), unusable.end()) - unusable.begin());

  std::vector<std::uint32_t> claimed;  // usable addresses someone has a claim on
  for (auto it = leases_.lower_bound(pool.first); it != leases_.end() && it->first <= pool.last; ++it) {
    const Lease& l = it->second;
    if (l.expires_at <= now || !usable_in(subnet, l.address)) continue;
    if (l.state == LeaseState::bound) {
      ++u.used;
      claimed.push_back(l.address.value());
    } else if (l.state == LeaseState::declined) {
      claimed.push_back(l.address.value());
    }
  }
  for (auto it = offers_.lower_bound(pool.first); it != offers_.end() && it->first <= pool.last; ++it)
    if (it->second.until > now && usable_in(subnet, it->first)) claimed.push_back(it->first.value());
  for (auto it = reserved_addresses_.lower_bound(pool.first); it != reserved_addresses_.end() && it->first <= pool.last;
       ++it)
    if (usable_in(subnet, it->first)) claimed.push_back(it->first.value());
  std::sort(claimed.begin(), claimed.end());
  const auto distinct = static_cast<std::uint64_t>(std::unique(claimed.begin(), claimed.end()) - claimed.begin());
  u.free = usable > distinct ? usable - distinct : 0;
  return u;
}

bool LeaseBook::usable_in(const SubnetSettings& subnet, Ipv4 a) const {
  if (!subnet.subnet.contains(a)) return false;
  if (subnet.subnet.prefix < 31 && (a == subnet.subnet.network || a == subnet.subnet.broadcast())) return false;
  if (a == settings_.server_address) return false;
  if (subnet.router && a == *subnet.router) return false;
  return true;
}

// Someone else has a claim on the address right now.
bool LeaseBook::blocked_for(Ipv4 a, const MacAddress& mac, std::int64_t now) const {
  if (auto r = reserved_addresses_.find(a); r != reserved_addresses_.end() && r->second != mac) return true;
  if (auto o = offers_.find(a); o != offers_.end() && o->second.mac != mac && o->second.until > now) return true;
  if (const Lease* l = lease_at(a)) {
    if (l->state == LeaseState::declined && l->expires_at > now) return true;
    if (l->state == LeaseState::bound && l->mac != mac && l->expires_at > now) return true;
  }
  return false;
}

bool LeaseBook::acceptable(const SubnetSettings& subnet, Ipv4 a, const MacAddress& mac, std::int64_t now) const {
  if (!usable_in(subnet, a) || blocked_for(a, mac, now)) return false;
  if (const Reservation* r = reservation_of(mac); r != nullptr && subnet.subnet.contains(r->address))
    return a == r->address;  // a reserved client gets its address and no other
  for (const auto& pool : subnet.pools)
    if (pool.contains(a)) return true;
  return false;
}

std::optional<Ipv4> LeaseBook::choose(const SubnetSettings& subnet, const MacAddress& mac,
                                      std::optional<Ipv4> requested, std::int64_t now) {
  if (const Reservation* r = reservation_of(mac); r != nullptr && subnet.subnet.contains(r->address)) {
    if (acceptable(subnet, r->address, mac, now)) return r->address;
    return std::nullopt;  // reserved address declined or held by a stale lease: give nothing rather than another
  }
  if (auto o = offer_by_mac_.find(mac); o != offer_by_mac_.end() && acceptable(subnet, o->second, mac, now))
    return o->second;
  if (const Lease* l = lease_of(mac); l != nullptr && acceptable(subnet, l->address, mac, now)) return l->address;
  if (requested && acceptable(subnet, *requested, mac, now)) return *requested;

  // Two passes over the pools, starting at a rotating cursor: first addresses
  // nobody ever had, then ones whose lease expired or was released.
  std::uint32_t& cursor = cursors_[subnet.subnet.network];
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& pool : subnet.pools) {
      if (pool.last < pool.first) continue;
      const std::uint64_t size = std::uint64_t{pool.last.value()} - pool.first.value() + 1;
      for (std::uint64_t i = 0; i < size; ++i) {
        Ipv4 a{static_cast<std::uint32_t>(pool.first.value() + (cursor + i) % size)};
        if (!usable_in(subnet, a) || blocked_for(a, mac, now)) continue;
        if (pass == 0 && lease_at(a) != nullptr) continue;
        if (const Lease* l = lease_at(a);
            l != nullptr && l->mac != mac && l->state == LeaseState::bound && l->expires_at > now)
          continue;
        cursor = static_cast<std::uint32_t>((a.value() - pool.first.value() + 1) % size);
        return a;
      }
    }
  }
  return std::nullopt;
}

void LeaseBook::hold_offer(Ipv4 address, const MacAddress& mac, std::int64_t until) {
  drop_offer(mac);
  offers_[address] = Offer{mac, until};
  offer_by_mac_[mac] = address;
}

void LeaseBook::drop_offer(const MacAddress& mac) {
  auto it = offer_by_mac_.find(mac);
  if (it == offer_by_mac_.end()) return;
  if (auto o = offers_.find(it->second); o != offers_.end() && o->second.mac == mac) offers_.erase(o);
  offer_by_mac_.erase(it);
}

void LeaseBook::commit(const Lease& lease) {
  if (store_ != nullptr) store_->put(lease);  // durable first: the reply is only sent after this returns
  if (auto old = by_mac_.find(lease.mac); old != by_mac_.end() && old->second != lease.address) {
    // The client moved: its old record stays (as history) but no longer points at it.
    by_mac_.erase(old);
  }
  if (auto prev = leases_.find(lease.address); prev != leases_.end() && prev->second.mac != lease.mac) {
    if (auto m = by_mac_.find(prev->second.mac); m != by_mac_.end() && m->second == lease.address) by_mac_.erase(m);
  }
  leases_[lease.address] = lease;
  if (lease.state == LeaseState::declined) {
    if (auto m = by_mac_.find(lease.mac); m != by_mac_.end() && m->second == lease.address) by_mac_.erase(m);
  } else {
    by_mac_[lease.mac] = lease.address;
  }
  drop_offer(lease.mac);
}

}  // namespace ramfleet::dhcp
