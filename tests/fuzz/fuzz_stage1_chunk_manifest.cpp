// libFuzzer target: chunks.json as a node's stage 1 reads it. The manifest
// comes from ramfleet, but over plain HTTP on the boot network, so it is
// untrusted. Invariants (a violation aborts): exactly one of manifest and
// error; an accepted manifest is consistent (chunk count matches size and
// chunk size, bounded) and survives to_json and back unchanged.
// fuzz-options: -max_len=16384
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "stage1/chunk_manifest.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ramfleet::stage1;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string error;
  const auto m = parse_chunk_manifest(text, error);
  if (m.has_value() == !error.empty()) std::abort();
  if (!m) return 0;
  if (m->chunks.empty() || m->chunks.size() > max_chunks) std::abort();
  if (m->chunk_size < min_chunk_size || m->chunk_size > max_chunk_size) std::abort();
  if (m->chunk_offset(m->chunks.size() - 1) >= m->size) std::abort();
  if (m->chunk_offset(m->chunks.size() - 1) + m->chunk_length(m->chunks.size() - 1) != m->size) std::abort();
  std::string again;
  const auto back = parse_chunk_manifest(to_json(*m), again);
  if (!back || back->chunks != m->chunks || back->size != m->size || back->image_id != m->image_id) std::abort();
  return 0;
}
