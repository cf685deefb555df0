#include "etcd/snapshot_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <tuple>

#include "core/hex.hpp"
#include "core/sha256.hpp"

namespace ramfleet::etcd {
namespace fs = std::filesystem;

namespace {
constexpr std::size_t kHash = 32;
constexpr std::size_t kMagicOffset = 16;  // bbolt: page header (16 bytes), then meta.magic
constexpr std::uint32_t kBoltMagic = 0xED0CDAED;
constexpr std::size_t kMinDb = 4096;  // at least one page

bool magic_ok(const unsigned char* p) {
  const std::uint32_t m = static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8U) |
                          (static_cast<std::uint32_t>(p[2]) << 16U) | (static_cast<std::uint32_t>(p[3]) << 24U);
  return m == kBoltMagic;
}

// Feeds the file through both digests: `db` over all but the last 32 bytes,
// `whole` over everything; keeps the tail.
SnapshotCheck check_stream(std::istream& in, std::uint64_t size) {
  SnapshotCheck c;
  c.size = size;
  if (size < kMinDb + kHash) {
    c.reason = "too short for a snapshot (" + std::to_string(size) + " bytes)";
    return c;
  }
  Sha256 db;
  Sha256 whole;
  std::vector<char> buf(1U << 16U);
  std::uint64_t left = size - kHash;
  bool first = true;
  while (left > 0) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size()));
    if (!in.read(buf.data(), static_cast<std::streamsize>(n))) {
      c.reason = "cannot read the file";
      return c;
    }
    if (first && !magic_ok(reinterpret_cast<const unsigned char*>(buf.data()) + kMagicOffset)) {
      c.reason = "not a bbolt database (bad magic in the first meta page)";
      return c;
    }
    first = false;
    const ByteView piece(reinterpret_cast<const std::uint8_t*>(buf.data()), n);
    db.update(piece);
    whole.update(piece);
    left -= n;
  }
  std::array<char, kHash> trailer{};
  if (!in.read(trailer.data(), kHash)) {
    c.reason = "cannot read the sha256 trailer";
    return c;
  }
  whole.update(as_bytes(std::string_view(trailer.data(), kHash)));
  const auto want = db.finish();
  if (std::memcmp(want.data(), trailer.data(), kHash) != 0) {
    c.reason = "sha256 trailer does not match the database (corrupted or truncated)";
    return c;
  }
  c.sha256_hex = to_hex(whole.finish());
  c.ok = true;
  return c;
}

void fsync_path(const fs::path& p, int flags) {
  const int fd = ::open(p.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}
}  // namespace

SnapshotCheck check_snapshot(std::string_view bytes) {
  std::string copy(bytes);
  std::istringstream in(copy);
  return check_stream(in, bytes.size());
}

SnapshotCheck check_snapshot_file(const fs::path& file) {
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  if (ec) return {false, "cannot stat: " + ec.message(), "", 0};
  std::ifstream in(file, std::ios::binary);
  if (!in) return {false, "cannot open", "", 0};
  return check_stream(in, size);
}

std::optional<SnapshotInfo> parse_snapshot_name(const fs::path& file) {
  // snapshot-<ms>-r<rev>.db
  const std::string n = file.filename().string();
  if (!n.starts_with("snapshot-") || !n.ends_with(".db")) return std::nullopt;
  const std::string mid = n.substr(9, n.size() - 9 - 3);
  const auto dash = mid.find("-r");
  if (dash == std::string::npos) return std::nullopt;
  SnapshotInfo s;
  s.file = file;
  auto num = [](std::string_view t, std::int64_t& v) {
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    return ec == std::errc{} && p == t.data() + t.size() && v >= 0;
  };
  if (!num(std::string_view(mid).substr(0, dash), s.taken_ms) ||
      !num(std::string_view(mid).substr(dash + 2), s.revision))
    return std::nullopt;
  return s;
}

std::vector<SnapshotInfo> SnapshotStore::list() const {
  std::vector<SnapshotInfo> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    if (!e.is_regular_file(ec)) continue;
    auto s = parse_snapshot_name(e.path());
    if (!s) continue;
    s->size = e.file_size(ec);
    out.push_back(std::move(*s));
  }
  std::sort(out.begin(), out.end(), [](const SnapshotInfo& a, const SnapshotInfo& b) {
    return std::tie(a.taken_ms, a.revision) > std::tie(b.taken_ms, b.revision);
  });
  return out;
}

NewestGood SnapshotStore::newest_good() const {
  NewestGood g;
  for (const auto& s : list()) {
    auto c = check_snapshot_file(s.file);
    if (c.ok) {
      g.snapshot = s;
      g.sha256_hex = c.sha256_hex;
      return g;
    }
    g.skipped.push_back(s.file.filename().string() + ": " + c.reason);
  }
  return g;
}

fs::path SnapshotStore::temp_path(std::int64_t now_ms) const {
  return dir_ / (".partial-" + std::to_string(now_ms) + "-" + std::to_string(::getpid()));
}

std::variant<SnapshotInfo, std::string> SnapshotStore::commit(const fs::path& temp, std::int64_t taken_ms,
                                                              std::int64_t revision) {
  const auto c = check_snapshot_file(temp);
  std::error_code ec;
  if (!c.ok) {
    fs::remove(temp, ec);
    return c.reason;
  }
  fsync_path(temp, O_RDONLY);
  SnapshotInfo s;
  s.file = dir_ / ("snapshot-" + std::to_string(taken_ms) + "-r" + std::to_string(revision) + ".db");
  s.taken_ms = taken_ms;
  s.revision = revision;
  s.size = c.size;
  fs::rename(temp, s.file, ec);
  if (ec) {
    fs::remove(temp, ec);
    return "cannot rename into place: " + ec.message();
  }
  fsync_path(dir_, O_RDONLY | O_DIRECTORY);
  return s;
}

std::vector<fs::path> SnapshotStore::prune(unsigned keep) {
  std::vector<fs::path> removed;
  auto all = list();
  std::error_code ec;
  for (std::size_t i = keep; i < all.size(); ++i) {
    if (fs::remove(all[i].file, ec)) removed.push_back(all[i].file);
  }
  // Partial files of an interrupted stream.
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    if (e.path().filename().string().starts_with(".partial-")) fs::remove(e.path(), ec);
  }
  return removed;
}

}  // namespace ramfleet::etcd
