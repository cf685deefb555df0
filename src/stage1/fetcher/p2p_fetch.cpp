#include "stage1/fetcher/p2p_fetch.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "stage1/chunk_scheduler.hpp"
#include "stage1/fetcher/http_client.hpp"
#include "stage1/fetcher/p2p_peer_server.hpp"
#include "stage1/fetcher/wipe_dir.hpp"
#include "stage1/root_writer.hpp"
#include "stage1/tracker_messages.hpp"

namespace ramfleet::stage1 {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::size_t kMaxManifest = 8U << 20U;
constexpr std::size_t kMaxTrackerReply = 1U << 20U;
constexpr unsigned kTrackerFailuresBeforeServerOnly = 5;
constexpr unsigned kServerFailuresFatal = 8;
constexpr milliseconds kPeerConnectTimeout{3000};
constexpr milliseconds kPeerIoTimeout{5000};
constexpr milliseconds kSeedAnnounceEvery{10'000};

std::string body_of(const std::string& url, const FetchOptions& o, std::size_t cap, const std::string& what,
                    std::string& error, const std::string& method = "GET", const std::string& body = {},
                    const std::string& credential = {}) {
  HttpRequest req;
  req.method = method;
  req.url = url;
  req.body = body;
  req.connect_timeout = milliseconds(o.connect_timeout_ms);
  req.io_timeout = milliseconds(std::min(o.io_timeout_ms, 10'000U));
  if (!credential.empty()) req.headers.emplace_back("Authorization", "Bearer " + credential);
  if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
  std::string out;
  try {
    auto resp = http_fetch(req, [&](ByteView piece) {
      if (out.size() + piece.size() > cap) throw std::runtime_error(what + " larger than " + std::to_string(cap));
      out.append(reinterpret_cast<const char*>(piece.data()), piece.size());
    });
    if (resp.status() != 200) {
      error = what + " answered " + std::to_string(resp.status()) + ": " + resp.error_body.substr(0, 200);
      return {};
    }
  } catch (const std::exception& e) {
    error = what + ": " + e.what();
    return {};
  }
  error.clear();
  return out;
}

struct Result {
  ChunkJob job;
  bool ok = false;
  ChunkFailure why = ChunkFailure::broken;
  std::string bytes;
  std::string error;
};

// One chunk from a peer (GET /p2p/v1/...) or from ramfleet (a Range of the
// image file); never more bytes than the chunk has.
Result fetch_chunk(const FetchOptions& o, const ChunkManifest& m, const ChunkJob& job) {
  Result r{job, false, ChunkFailure::broken, {}, {}};
  const auto length = m.chunk_length(job.chunk);
  HttpRequest req;
  if (job.peer.empty()) {
    req.url = o.url;
    req.range = ByteRange{m.chunk_offset(job.chunk), m.chunk_offset(job.chunk) + length - 1};
    req.connect_timeout = milliseconds(o.connect_timeout_ms);
    req.io_timeout = milliseconds(o.io_timeout_ms);
  } else {
    req.url = "http://" + job.peer + "/p2p/v1/" + m.image_id + "/" + std::to_string(job.chunk);
    req.connect_timeout = kPeerConnectTimeout;
    req.io_timeout = kPeerIoTimeout;
  }
  try {
    r.bytes.reserve(length);
    auto resp = http_fetch(req, [&](ByteView piece) {
      if (r.bytes.size() + piece.size() > length) throw std::runtime_error("more bytes than the chunk has");
      r.bytes.append(reinterpret_cast<const char*>(piece.data()), piece.size());
    });
    const int want = job.peer.empty() ? 206 : 200;
    if (resp.status() == want) {
      r.ok = true;
    } else {
      r.why = resp.status() == 404 || resp.status() == 503 ? ChunkFailure::busy : ChunkFailure::broken;
      r.error = "answered " + std::to_string(resp.status());
    }
  } catch (const HttpError& e) {
    r.error = e.what();
    // No connection at all: the peer is gone or swamped (its chunk goes back
    // to the tracker). Anything after connecting is a broken peer.
    if (!job.peer.empty() && e.kind() == HttpError::Kind::connect_timeout) r.why = ChunkFailure::unreachable;
  } catch (const std::exception& e) {
    r.error = e.what();
  }
  return r;
}

std::string source_name(const ChunkJob& j) { return j.peer.empty() ? std::string("ramfleet") : "peer " + j.peer; }

// Announces the whole holding every kSeedAnnounceEvery until `until`, while
// `server` answers peers. Runs in the detached child.
void seed(const FetchOptions& o, ChunkScheduler& sched, std::mutex& mu, PeerServer& server, Clock::time_point until,
          const Say& say) {
  server.start();
  while (Clock::now() < until) {
    std::vector<std::uint32_t> have;
    {
      std::lock_guard lock(mu);
      have = sched.have_for_announce();
    }
    std::string error;
    body_of(o.p2p.tracker_url, o, kMaxTrackerReply, "tracker", error, "POST",
            tracker_announce_body(o.p2p.listen_port, have, {}), o.p2p.credential);
    const auto next = std::min(until, Clock::now() + kSeedAnnounceEvery);
    while (Clock::now() < next) std::this_thread::sleep_for(milliseconds(200));
  }
  server.stop();
  const auto& st = server.stats();
  say("seeding done: served " + std::to_string(st.served.load()) + " chunks (" + std::to_string(st.bytes.load()) +
      " bytes), " + std::to_string(st.busy.load()) + " busy answers");
}

}  // namespace

bool p2p_fetch_root(const FetchOptions& o, const Say& say) {
  const auto t0 = Clock::now();
  std::string error;
  const auto text = body_of(o.p2p.manifest_url, o, kMaxManifest, "chunk manifest", error);
  std::optional<ChunkManifest> manifest;
  if (error.empty()) manifest = parse_chunk_manifest(text, error);
  if (manifest && manifest->image_id != o.sha256_hex)
    error = "chunk manifest is of image " + manifest->image_id.substr(0, 12) + ", not " + o.sha256_hex.substr(0, 12);
  if (!error.empty() || !manifest) {
    say("p2p off for this boot (" + error + "): fetching the whole image from ramfleet");
    return fetch_root(o, say);
  }

  std::mutex mu;  // guards sched: the peer server's threads read held chunks
  SchedulerLimits limits;
  ChunkScheduler sched(*manifest, limits, t0);
  std::unique_ptr<PeerServer> server;
  try {
    server = std::make_unique<PeerServer>(o.p2p.listen_port, manifest->image_id, [&](std::uint32_t i) {
      std::lock_guard lock(mu);
      return sched.held(i);
    });
    server->start();
  } catch (const std::exception& e) {
    say(std::string("not serving chunks to peers: ") + e.what());
  }

  std::deque<Result> results;
  std::condition_variable done;
  std::map<std::uint32_t, std::thread> workers;
  auto join_all = [&] {
    for (auto& [_, t] : workers)
      if (t.joinable()) t.join();
    workers.clear();
  };
  std::optional<RootWriter> writer;
  std::string failure;
  unsigned tracker_failures = 0, server_failures = 0;
  auto next_announce = t0;
  std::size_t announced_held = 0;
  try {
    writer.emplace(o.into, o.sha256);
    while (true) {
      // Bytes in order into the root writer (outside the lock: the chunks are shared, immutable).
      std::vector<std::shared_ptr<const std::string>> ready;
      {
        std::lock_guard lock(mu);
        ready = sched.take_prefix();
      }
      for (const auto& c : ready) writer->write(ByteView(reinterpret_cast<const std::uint8_t*>(c->data()), c->size()));
      bool complete = false, moved = false;
      std::size_t held_now = 0;
      {
        std::lock_guard lock(mu);
        complete = sched.complete();
        held_now = sched.stats().from_peers + sched.stats().from_server;
      }
      if (complete) break;

      // The tracker: as often as it asks, and soon after we got something new to offer.
      const auto now = Clock::now();
      if (now >= next_announce || (held_now != announced_held && now >= next_announce - milliseconds(400))) {
        std::vector<std::uint32_t> have, want;
        {
          std::lock_guard lock(mu);
          have = server ? sched.have_for_announce() : std::vector<std::uint32_t>{};
          want = sched.want();
        }
        milliseconds retry{1000};
        bool free_slot = false;
        {
          std::lock_guard lock(mu);
          free_slot = sched.has_free_slot();
        }
        // Only when there is something to ask for and room to fetch it, or
        // something new to offer: in a storm the replies share ramfleet's link.
        if ((!want.empty() && free_slot) || held_now != announced_held) {
          const auto reply = body_of(o.p2p.tracker_url, o, kMaxTrackerReply, "tracker", error, "POST",
                                     tracker_announce_body(o.p2p.listen_port, have, want), o.p2p.credential);
          std::optional<TrackerReply> parsed;
          if (error.empty()) parsed = parse_tracker_reply(reply, manifest->chunks.size(), error);
          if (parsed) {
            tracker_failures = 0;
            announced_held = held_now;
            retry = parsed->retry;
            std::lock_guard lock(mu);
            sched.on_sources(parsed->sources);
          } else if (++tracker_failures == kTrackerFailuresBeforeServerOnly) {
            say("the tracker failed " + std::to_string(tracker_failures) + " times (" + error +
                "): the rest of the image comes from ramfleet");
            std::lock_guard lock(mu);
            sched.server_only();
          }
        }
        next_announce = Clock::now() + retry;
      }

      // Start what can start.
      {
        std::lock_guard lock(mu);
        while (auto job = sched.next_job(Clock::now())) {
          auto j = *job;
          moved = true;
          workers[j.chunk] = std::thread([&, j] {
            auto r = fetch_chunk(o, *manifest, j);
            std::lock_guard l2(mu);
            results.push_back(std::move(r));
            done.notify_one();
          });
        }
      }
      (void)moved;

      // Collect what finished (or wake for the next announce).
      std::unique_lock lock(mu);
      done.wait_for(lock, milliseconds(50), [&] { return !results.empty(); });
      while (!results.empty()) {
        Result r = std::move(results.front());
        results.pop_front();
        if (auto t = workers.find(r.job.chunk); t != workers.end()) {
          lock.unlock();
          t->second.join();
          lock.lock();
          workers.erase(t);
        }
        if (r.ok && sched.complete(r.job, std::move(r.bytes), Clock::now())) continue;
        const auto why = r.ok ? ChunkFailure::corrupt : r.why;
        if (!r.ok) sched.fail(r.job, why, Clock::now());
        if (why == ChunkFailure::unreachable)
          say("chunk " + std::to_string(r.job.chunk) + " from " + source_name(r.job) + " failed (" + r.error +
              "); that peer rests a while");
        else if (why != ChunkFailure::busy)
          say("chunk " + std::to_string(r.job.chunk) + " from " + source_name(r.job) + " failed (" +
              (r.ok ? std::string("its bytes do not match the manifest") : r.error) + ")" +
              (r.job.peer.empty() ? "" : "; that peer is not asked again, the chunk comes from ramfleet"));
        if (r.job.peer.empty() && ++server_failures >= kServerFailuresFatal)
          throw std::runtime_error("ramfleet failed " + std::to_string(server_failures) +
                                   " chunk requests: " + (r.ok ? "bytes differ from its own manifest" : r.error));
      }
    }
    join_all();
    writer->finish();
  } catch (const std::exception& e) {
    failure = e.what();
  }
  join_all();
  if (!failure.empty()) {
    writer.reset();
    try {
      wipe_dir(o.into);
    } catch (const std::exception& e) {
      say(std::string("ERROR cannot empty the half-written root: ") + e.what());
    }
    say("ERROR cannot fetch the root image: " + failure);
    return false;
  }
  const auto& st = sched.stats();
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.1f s", std::chrono::duration<double>(Clock::now() - t0).count());
  say("root image " + o.sha256_hex.substr(0, 12) + " verified (p2p): " + std::to_string(st.from_peers) +
      " chunks from peers (" + std::to_string(st.bytes_from_peers) + " bytes), " + std::to_string(st.from_server) +
      " from ramfleet (" + std::to_string(st.bytes_from_server) + " bytes), " + std::to_string(st.corrupt) +
      " corrupt, " + std::to_string(st.broken) + " broken, " + std::to_string(st.unreachable) + " unreachable, " +
      std::to_string(st.server_fallbacks) + " waits ended at ramfleet, in " + secs);

  if (!server || o.p2p.seed_seconds == 0) return true;
  // Seed in a detached child: this process exits so stage 1 can switch_root.
  // No other thread runs now except the peer server's, which is stopped
  // first (a fork copies only the calling thread).
  server->stop();
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    say("not seeding: fork failed");
    return true;
  }
  if (pid == 0) {
    ::setsid();
    // Stage 1 pipes our stderr to the console through tee, which waits for
    // every writer to close: the seeder must not hold that pipe, or the boot
    // would wait for the seeding to end. A file or terminal is kept.
    struct stat out {};
    if (::fstat(2, &out) == 0 && S_ISFIFO(out.st_mode)) {
      int fd = ::open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
      if (fd < 0) fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        ::close(fd);
      }
    }
    seed(o, sched, mu, *server, Clock::now() + std::chrono::seconds(o.p2p.seed_seconds), say);
    std::fflush(nullptr);
    ::_exit(0);
  }
  say("seeding " + std::to_string(manifest->chunks.size()) + " chunks to peers for " +
      std::to_string(o.p2p.seed_seconds) + " s (pid " + std::to_string(pid) + ")");
  return true;
}

}  // namespace ramfleet::stage1
