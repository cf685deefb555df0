#include "kube/approval.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <stdexcept>
#include <system_error>

#include "kube/names.hpp"
#include "kube/secret_files.hpp"

namespace ramfleet::kube {

namespace fs = std::filesystem;

namespace {

// Node names are DNS-1123 subdomains (what Kubernetes accepts for a Node):
// no '/', no empty label, so never "." or ".." either; the name is always one
// file directly inside STATE/approved.
void require_node_name(std::string_view node) {
  if (!is_dns_subdomain(node))
    throw std::invalid_argument("node name \"" + std::string(node) +
                                "\" is not a lowercase DNS name ([a-z0-9-] labels separated by '.')");
}

fs::path approval_file(const fs::path& state, std::string_view node) {
  return state / kApprovedDir / std::string(node);
}

std::string utc_now() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

bool node_approved(const fs::path& state, std::string_view node) {
  if (!is_dns_subdomain(node)) return false;
  std::error_code ec;
  // A regular file only: a directory or a dangling symlink planted there is not an approval.
  return fs::is_regular_file(fs::symlink_status(approval_file(state, node), ec));
}

void approve_node(const fs::path& state, std::string_view node, std::string_view by) {
  require_node_name(node);
  // The record is for people reading the state directory; keep it one line per field.
  if (by.size() > 256 ||
      std::any_of(by.begin(), by.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }))
    throw std::invalid_argument("approver must be at most 256 printable characters");
  make_private_dirs(state / kApprovedDir);
  write_file_atomic(approval_file(state, node), "node: " + std::string(node) + "\napproved-by: " + std::string(by) +
                                                    "\napproved-at: " + utc_now() + "\n");
}

bool revoke_approval(const fs::path& state, std::string_view node) {
  require_node_name(node);
  std::error_code ec;
  const bool removed = fs::remove(approval_file(state, node), ec);
  if (ec) throw StateError("cannot remove " + approval_file(state, node).string() + ": " + ec.message());
  if (removed) sync_path(state / kApprovedDir);
  return removed;
}

std::vector<std::string> approved_nodes(const fs::path& state) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(state / kApprovedDir, ec)) {
    std::string name = entry.path().filename().string();
    if (is_dns_subdomain(name) && entry.is_regular_file(ec) && !entry.is_symlink(ec)) out.push_back(std::move(name));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace ramfleet::kube
