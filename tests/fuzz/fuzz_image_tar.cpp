// libFuzzer target: the image module's parsers of untrusted archive data:
// tar header blocks, pax extended records and path normalisation, then the
// normalised paths applied to an FsTree as a layer would (puts, whiteouts).
// Invariants (a violation aborts): a normalised path never is empty, never
// starts with '/', never has an empty, "." or ".." segment; every tree entry's
// parent directory exists and is a directory.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "image/fs_tree.hpp"
#include "image/tar_reader.hpp"

using namespace ramfleet::image;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

void check_normalised(const std::string& p) {
  check(!p.empty() && p.front() != '/' && p.back() != '/');
  std::size_t i = 0;
  while (i <= p.size()) {
    auto slash = p.find('/', i);
    if (slash == std::string::npos) slash = p.size();
    auto seg = p.substr(i, slash - i);
    check(!seg.empty() && seg != "." && seg != "..");
    i = slash + 1;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::array<std::uint8_t, 512> block{};
  std::memcpy(block.data(), data, std::min<std::size_t>(size, 512));
  TarMember m;
  std::string error;
  auto r = parse_tar_header(block, m, error);
  if (r == HeaderResult::bad) check(!error.empty());
  if (r == HeaderResult::member) check(m.mode <= 07777);

  std::string text(reinterpret_cast<const char*>(data), size);
  TarMember pax;
  if (!apply_pax_records(text, pax, error)) check(!error.empty());

  // Lines of the input as paths applied to a tree, alternating kinds.
  FsTree tree;
  std::size_t start = 0, n = 0;
  while (start < text.size() && n < 64) {
    auto nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    auto path = normalize_path(std::string_view(text).substr(start, nl - start));
    start = nl + 1;
    if (!path) continue;
    check_normalised(*path);
    FsEntry e;
    switch (n++ % 4) {
      case 0:
        e.type = EntryType::directory;
        tree.put(*path, e);
        break;
      case 1:
        tree.put(*path, e);
        break;
      case 2:
        tree.remove(*path);
        break;
      default:
        tree.clear_children(*path);
        break;
    }
  }
  for (const auto& [name, entry] : tree.entries()) {
    auto slash = name.rfind('/');
    if (slash == std::string::npos) continue;
    const auto* parent = tree.find(name.substr(0, slash));
    check(parent != nullptr && parent->type == EntryType::directory);
  }
  return 0;
}
