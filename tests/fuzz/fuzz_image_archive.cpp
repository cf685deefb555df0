// libFuzzer target: read_tar on WHOLE archives (headers, pax and GNU long
// names, member data, padding, end of archive), then the members applied to an
// FsTree as a layer is (whiteouts, hard links, parents made for deep paths).
// Invariants (a violation aborts): only ImageError is ever thrown; every
// member handed out lies inside the archive, on a block boundary, with a name
// and link within the limits; the member count and the tree stay within
// max_entries; no member is handed out twice (no looping).
// fuzz-options: -max_len=65536 -runs=50000
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>

#include "image/byte_source.hpp"
#include "image/image_error.hpp"
#include "image/sources.hpp"
#include "image/tar_reader.hpp"

using namespace ramfleet::image;

namespace {
void check(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ImageLimits limits;
  limits.max_entries = 200;
  limits.max_name_bytes = 512;
  limits.max_pax_bytes = 4096;
  MemorySource src({data, size}, "fuzz.tar");
  std::set<std::uint64_t> offsets;
  std::uint64_t members = 0;
  try {
    read_tar(src, 0, size, "fuzz.tar", limits, [&](const TarMember& m) {
      ++members;
      check(members <= limits.max_entries);
      check(m.data_offset % 512 == 0 && m.data_offset >= 512);
      check(m.data_offset <= size && m.size <= size - m.data_offset);
      check(offsets.insert(m.data_offset).second);  // strictly forward
      check(m.path.size() <= limits.max_name_bytes && m.linkname.size() <= limits.max_name_bytes);
      check(m.mode <= 07777);
    });
  } catch (const ImageError&) {
  }
  // The same bytes as a layer: whatever the layer says, the tree stays
  // consistent and bounded.
  FsTree tree;
  try {
    apply_layer(tree, src, "fuzz.tar", "fuzz.tar", limits);
  } catch (const ImageError&) {
  }
  check(tree.entries().size() <= limits.max_entries);
  for (const auto& [name, entry] : tree.entries()) {
    check(!name.empty() && name.front() != '/');
    auto slash = name.rfind('/');
    if (slash == std::string::npos) continue;
    const auto* parent = tree.find(name.substr(0, slash));
    check(parent != nullptr && parent->type == EntryType::directory);
    if (entry.type == EntryType::regular)
      check(entry.data.offset <= size && entry.data.size <= size - entry.data.offset);
  }
  return 0;
}
