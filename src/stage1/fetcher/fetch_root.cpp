#include "stage1/fetcher/fetch_root.hpp"

#include <chrono>
#include <cstdio>
#include <thread>

#include "stage1/fetcher/http_client.hpp"
#include "stage1/fetcher/wipe_dir.hpp"

namespace ramfleet::stage1 {
namespace {

using Clock = std::chrono::steady_clock;

std::string mib(std::uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

std::string seconds_since(Clock::time_point t0) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", std::chrono::duration<double>(Clock::now() - t0).count());
  return buf;
}

enum class Outcome { done, retry, restart, fatal };

// Empties `dir`; a failure here is reported (the caller's /init also
// unmounts the tmpfs, so this is belt and braces).
void discard(const std::string& dir, const Say& say) {
  try {
    wipe_dir(dir);
  } catch (const std::exception& e) {
    say(std::string("ERROR cannot empty the half-written root: ") + e.what());
  }
}

}  // namespace

bool fetch_root(const FetchOptions& o, const Say& say) {
  const auto t0 = Clock::now();
  unsigned tries = 0, restarts = 0;
  std::chrono::milliseconds backoff{500};
  std::string last_error;
  while (tries < o.attempts) {
    ++tries;
    bool wrote = false;
    Outcome outcome = Outcome::fatal;
    try {
      RootWriter writer(o.into, o.sha256);
      HttpRequest req;
      req.url = o.url;
      req.connect_timeout = std::chrono::milliseconds(o.connect_timeout_ms);
      req.io_timeout = std::chrono::milliseconds(o.io_timeout_ms);
      auto resp = http_fetch(req, [&](ByteView piece) {
        wrote = true;
        writer.write(piece);
      });
      if (resp.status() == 200) {
        writer.finish();  // throws on digest mismatch or truncation
        const auto& st = writer.stats();
        say("root image " + o.sha256_hex.substr(0, 12) + " verified: " + mib(st.compressed_bytes) + " fetched, " +
            std::to_string(st.entries) + " entries, " + mib(st.unpacked_bytes) + " of files in " + seconds_since(t0));
        return true;
      }
      last_error = o.url + " answered " + std::to_string(resp.status()) + " " + resp.head.reason;
      outcome = resp.status() >= 500 || resp.status() == 429 ? Outcome::retry : Outcome::fatal;
    } catch (const HttpError& e) {
      last_error = e.what();
      if (e.kind() == HttpError::Kind::bad_url)
        outcome = Outcome::fatal;
      else
        outcome = e.body_started() ? Outcome::restart : Outcome::retry;
    } catch (const std::exception& e) {
      // The root writer: corrupt data, a digest mismatch, a hostile name, a
      // full tmpfs. Fetching the same bytes again would not help.
      last_error = e.what();
      outcome = Outcome::fatal;
    }
    if (wrote) discard(o.into, say);
    if (outcome == Outcome::fatal) break;
    if (outcome == Outcome::restart) {
      if (restarts >= o.restarts) break;
      ++restarts;
      --tries;  // a restart does not use up a connection attempt
      say("the stream broke after unpacking began (" + last_error + "); starting again into the emptied root (" +
          std::to_string(restarts) + "/" + std::to_string(o.restarts) + ")");
      continue;
    }
    if (tries >= o.attempts) break;
    say("try " + std::to_string(tries) + "/" + std::to_string(o.attempts) + " failed (" + last_error + "); again in " +
        std::to_string(backoff.count()) + " ms");
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(8000));
  }
  say("ERROR cannot fetch the root image: " + last_error);
  return false;
}

}  // namespace ramfleet::stage1
