#include "stage1/chunk_scheduler.hpp"

#include <algorithm>

namespace ramfleet::stage1 {

ChunkScheduler::ChunkScheduler(ChunkManifest manifest, SchedulerLimits limits, Clock::time_point now)
    : manifest_(std::move(manifest)), limits_(limits), chunks_(manifest_.chunks.size()), last_progress_(now) {
  if (limits_.parallel == 0) limits_.parallel = 1;
}

std::vector<std::uint32_t> ChunkScheduler::have_for_announce() {
  std::vector<std::uint32_t> all;
  for (std::uint32_t i = 0; i < chunks_.size(); ++i)
    if (chunks_[i].state == State::held) all.push_back(i);
  if (all.size() <= limits_.max_have) return all;
  // Too many for one request body: a window that moves on each time (the
  // tracker keeps what it was told until the peer expires).
  std::vector<std::uint32_t> out;
  out.reserve(limits_.max_have);
  for (std::size_t k = 0; k < limits_.max_have; ++k) out.push_back(all[(have_cursor_ + k) % all.size()]);
  have_cursor_ = (have_cursor_ + limits_.max_have) % all.size();
  return out;
}

std::vector<std::uint32_t> ChunkScheduler::want() const {
  std::vector<std::uint32_t> out;
  if (server_only_) return out;
  for (std::size_t i = written_; i < chunks_.size() && out.size() < limits_.max_want; ++i) {
    const auto& c = chunks_[i];
    if (c.state == State::missing && !c.must_use_server) out.push_back(static_cast<std::uint32_t>(i));
  }
  return out;
}

void ChunkScheduler::on_sources(const std::map<std::uint32_t, std::vector<std::string>>& sources) {
  for (const auto& [i, list] : sources) {
    if (i >= chunks_.size() || chunks_[i].state != State::missing) continue;
    auto& c = chunks_[i];
    c.peers.clear();
    c.server_granted = false;
    if (list.size() == 1 && list[0] == "server") {
      c.server_granted = true;
      continue;
    }
    for (const auto& p : list)
      if (p != "server" && !barred_.contains(p)) c.peers.push_back(p);
    // Only peers that already failed us hold it: the tracker cannot know
    // they lie, we do. ramfleet's copy instead.
    if (c.peers.empty() && !list.empty()) c.must_use_server = true;
  }
}

std::optional<ChunkJob> ChunkScheduler::next_job(Clock::time_point now) {
  if (in_flight_ >= limits_.parallel) return std::nullopt;
  std::optional<std::size_t> first_missing;
  for (std::size_t i = written_; i < chunks_.size(); ++i) {
    auto& c = chunks_[i];
    if (c.state != State::missing) continue;
    if (!first_missing) first_missing = i;
    ChunkJob job{static_cast<std::uint32_t>(i), {}};
    if (c.must_use_server || server_only_) {
      // from ramfleet
    } else if (auto p = std::find_if(c.peers.begin(), c.peers.end(),
                                     [&](const auto& x) { return !barred_.contains(x) && !resting(x, now); });
               p != c.peers.end()) {
      job.peer = *p;
      c.peers.erase(c.peers.begin(), p + 1);  // a busy answer moves on to the next one
    } else if (c.server_granted) {
      c.server_granted = false;
    } else {
      continue;
    }
    c.state = State::in_flight;
    ++in_flight_;
    return job;
  }
  // Nothing has a source. When nothing is moving either, the swarm cannot
  // help us now: one chunk from ramfleet, then wait again.
  if (first_missing && in_flight_ == 0 && now - last_progress_ >= limits_.stall) {
    auto& c = chunks_[*first_missing];
    c.state = State::in_flight;
    ++in_flight_;
    ++stats_.server_fallbacks;
    last_progress_ = now;
    return ChunkJob{static_cast<std::uint32_t>(*first_missing), {}};
  }
  return std::nullopt;
}

bool ChunkScheduler::complete(const ChunkJob& job, std::string bytes, Clock::time_point now) {
  if (job.chunk >= chunks_.size() || chunks_[job.chunk].state != State::in_flight) return false;
  if (bytes.size() != manifest_.chunk_length(job.chunk) || sha256(bytes) != manifest_.chunks[job.chunk]) {
    fail(job, ChunkFailure::corrupt);
    return false;
  }
  auto& c = chunks_[job.chunk];
  --in_flight_;
  c.state = State::held;
  c.peers.clear();
  c.peers.shrink_to_fit();
  (job.peer.empty() ? stats_.bytes_from_server : stats_.bytes_from_peers) += bytes.size();
  ++(job.peer.empty() ? stats_.from_server : stats_.from_peers);
  c.bytes = std::make_shared<const std::string>(std::move(bytes));
  ++held_count_;
  last_progress_ = now;
  return true;
}

bool ChunkScheduler::resting(const std::string& peer, Clock::time_point now) const {
  auto it = resting_.find(peer);
  return it != resting_.end() && now < it->second.until;
}

void ChunkScheduler::fail(const ChunkJob& job, ChunkFailure why, Clock::time_point now) {
  if (job.chunk >= chunks_.size() || chunks_[job.chunk].state != State::in_flight) return;
  auto& c = chunks_[job.chunk];
  --in_flight_;
  c.state = State::missing;
  switch (why) {
    case ChunkFailure::busy:
      ++stats_.busy;
      return;
    case ChunkFailure::unreachable: {
      ++stats_.unreachable;
      if (job.peer.empty()) return;
      auto& rest = resting_[job.peer];
      rest.times = std::min(rest.times + 1, 5U);
      rest.until = now + std::chrono::seconds(2) * (1U << (rest.times - 1));  // 2, 4, 8, 16, 32 s
      return;
    }
    case ChunkFailure::broken:
      ++stats_.broken;
      break;
    case ChunkFailure::corrupt:
      ++stats_.corrupt;
      break;
  }
  // A peer that cut us off or lied is not asked again; ramfleet's copy is
  // the one that is right by definition.
  if (!job.peer.empty()) barred_.insert(job.peer);
  c.must_use_server = true;
}

std::vector<std::shared_ptr<const std::string>> ChunkScheduler::take_prefix() {
  std::vector<std::shared_ptr<const std::string>> out;
  while (written_ < chunks_.size() && chunks_[written_].state == State::held) out.push_back(chunks_[written_++].bytes);
  return out;
}

std::shared_ptr<const std::string> ChunkScheduler::held(std::uint32_t chunk) const {
  if (chunk >= chunks_.size() || chunks_[chunk].state != State::held) return nullptr;
  return chunks_[chunk].bytes;
}

}  // namespace ramfleet::stage1
