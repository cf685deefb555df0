#pragma once
// The snapshots ramfleet keeps of the etcd cluster, under STATE/etcd/snapshots/:
//   snapshot-<unix ms>-r<revision>.db   what /v3/maintenance/snapshot streamed:
//                                       a bbolt database plus its sha256 (32 bytes)
// A file gets its final name only once complete, fsynced and checked (temp +
// fsync + rename), so a name in this directory is a whole snapshot; it is
// checked again before it is ever served, and one that fails is skipped for
// the one before.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ramfleet::etcd {

struct SnapshotCheck {
  bool ok = false;
  std::string reason;      // when !ok
  std::string sha256_hex;  // of the whole file, as the node checks it
  std::uint64_t size = 0;
};

// The checks `etcdctl snapshot restore` makes before it trusts a file: the
// bbolt magic of the first meta page, and the sha256 trailer over the rest.
SnapshotCheck check_snapshot(std::string_view bytes);
SnapshotCheck check_snapshot_file(const std::filesystem::path& file);

struct SnapshotInfo {
  std::filesystem::path file;
  std::int64_t taken_ms = 0;
  std::int64_t revision = 0;
  std::uint64_t size = 0;
};

struct NewestGood {
  std::optional<SnapshotInfo> snapshot;
  std::string sha256_hex;
  std::vector<std::string> skipped;  // "<file>: <reason>", newest first
};

class SnapshotStore {
 public:
  explicit SnapshotStore(std::filesystem::path dir) : dir_(std::move(dir)) {}
  [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }

  // Newest first; files whose names are not ours are ignored.
  [[nodiscard]] std::vector<SnapshotInfo> list() const;
  [[nodiscard]] NewestGood newest_good() const;

  // A temp file to stream into (in the same directory, so rename is atomic).
  [[nodiscard]] std::filesystem::path temp_path(std::int64_t now_ms) const;
  // Checks, fsyncs and renames a complete temp file into place; on a failed
  // check the temp file is removed and the reason returned.
  std::variant<SnapshotInfo, std::string> commit(const std::filesystem::path& temp, std::int64_t taken_ms,
                                                 std::int64_t revision);
  // Removes all but the newest `keep`; returns the files removed.
  std::vector<std::filesystem::path> prune(unsigned keep);

 private:
  std::filesystem::path dir_;
};

std::optional<SnapshotInfo> parse_snapshot_name(const std::filesystem::path& file);

}  // namespace ramfleet::etcd
