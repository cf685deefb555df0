#include "boot/chunk_tracker.hpp"

#include <algorithm>

namespace ramfleet::boot {

void ChunkTracker::add_image(const std::string& image, std::uint32_t chunks, Clock::time_point now) {
  if (auto it = images_.find(image); it != images_.end()) {
    it->second.used = now;
    return;
  }
  if (images_.size() >= limits_.images && !images_.empty()) {
    auto oldest = std::min_element(images_.begin(), images_.end(),
                                   [](const auto& a, const auto& b) { return a.second.used < b.second.used; });
    images_.erase(oldest);
    ++stats_.images_forgotten;
  }
  Image img;
  img.chunk_count = chunks;
  img.used = now;
  img.holders.resize(chunks);
  images_.emplace(image, std::move(img));
}

std::size_t ChunkTracker::peers(std::string_view image) const {
  auto it = images_.find(std::string(image));
  return it == images_.end() ? 0 : it->second.peers.size();
}

std::size_t ChunkTracker::open_grants(std::string_view image) const {
  auto it = images_.find(std::string(image));
  return it == images_.end() ? 0 : it->second.grants.size();
}

void ChunkTracker::expire(Image& img, Clock::time_point now) {
  std::erase_if(img.peers, [&](const auto& kv) {
    const bool gone = kv.second.seen + limits_.peer_ttl <= now;
    if (gone) ++stats_.peers_expired;
    return gone;
  });
  // A grant outlives neither its deadline nor its peer: the chunk goes to the
  // next asker. Holder lists are cleaned lazily, as they are read.
  std::erase_if(img.grants, [&](const Grant& g) {
    const bool gone = g.expires <= now || !img.peers.contains(g.machine);
    if (gone) ++stats_.grants_expired;
    return gone;
  });
}

std::vector<std::string> ChunkTracker::pick_holders(Image& img, std::uint32_t chunk, const std::string& asker,
                                                    Clock::time_point /*now*/) {
  auto& list = img.holders[chunk];
  std::erase_if(list, [&](const std::string& m) { return !img.peers.contains(m); });
  std::vector<Peer*> candidates;
  candidates.reserve(list.size());
  for (const auto& m : list)
    if (m != asker) candidates.push_back(&img.peers.at(m));
  const auto k = std::min(limits_.sources_per_chunk, candidates.size());
  // Least recently handed out first: a storm's askers spread over every holder.
  std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(k), candidates.end(),
                    [](const Peer* a, const Peer* b) { return a->handed < b->handed; });
  std::vector<std::string> out;
  out.reserve(k);
  for (std::size_t i = 0; i < k; ++i) {
    candidates[i]->handed = ++handed_seq_;
    out.push_back(candidates[i]->address);
  }
  return out;
}

bool ChunkTracker::grant_server(Image& img, std::uint32_t chunk, const std::string& asker, Clock::time_point now) {
  std::size_t for_chunk = 0;
  std::size_t for_asker = 0;
  for (const auto& g : img.grants) {
    if (g.chunk == chunk && g.machine == asker) return true;  // still fetching it: the same answer
    if (g.chunk == chunk) ++for_chunk;
    if (g.machine == asker) ++for_asker;
  }
  if (for_chunk >= limits_.server_per_chunk || img.grants.size() >= limits_.server_grants ||
      for_asker >= limits_.server_grants_per_peer)
    return false;
  img.grants.push_back(Grant{chunk, asker, now + limits_.grant_ttl});
  ++stats_.server_grants;
  return true;
}

TrackerAnswer ChunkTracker::announce(const std::string& image, const Announce& a, Clock::time_point now,
                                     TrackerRefusal& refusal) {
  refusal = TrackerRefusal::none;
  TrackerAnswer answer;
  answer.retry = limits_.retry;
  auto it = images_.find(image);
  if (it == images_.end()) {
    refusal = TrackerRefusal::unknown_image;
    return answer;
  }
  Image& img = it->second;
  img.used = now;
  expire(img, now);
  const auto beyond = [&](std::uint32_t i) { return i >= img.chunk_count; };
  if (std::any_of(a.have.begin(), a.have.end(), beyond) || std::any_of(a.want.begin(), a.want.end(), beyond)) {
    refusal = TrackerRefusal::bad_index;
    return answer;
  }
  auto peer = img.peers.find(a.machine);
  if (peer == img.peers.end()) {
    if (img.peers.size() >= limits_.peers_per_image) {
      ++stats_.refused_full;
      refusal = TrackerRefusal::image_full;
      return answer;
    }
    peer = img.peers.emplace(a.machine, Peer{}).first;
  }
  peer->second.address = a.address;
  peer->second.seen = now;

  for (const auto i : a.have) {
    std::erase_if(img.grants, [&](const Grant& g) { return g.chunk == i && g.machine == a.machine; });
    auto& list = img.holders[i];
    if (std::find(list.begin(), list.end(), a.machine) != list.end()) continue;
    if (list.size() >= limits_.holders_per_chunk)
      std::erase_if(list, [&](const std::string& m) { return !img.peers.contains(m); });
    if (list.size() < limits_.holders_per_chunk) list.push_back(a.machine);
  }

  const auto wants = std::min(a.want.size(), limits_.wants_per_request);
  for (std::size_t w = 0; w < wants; ++w) {
    const auto i = a.want[w];
    auto holders = pick_holders(img, i, a.machine, now);
    if (!holders.empty()) {
      ++stats_.peer_answers;
      answer.sources.push_back(ChunkSources{i, false, std::move(holders)});
    } else if (grant_server(img, i, a.machine, now)) {
      answer.sources.push_back(ChunkSources{i, true, {}});
    } else {
      ++stats_.waits;
    }
  }
  return answer;
}

}  // namespace ramfleet::boot
