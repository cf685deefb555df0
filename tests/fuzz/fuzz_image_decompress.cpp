// libFuzzer target: the layer decoders (gzip, concatenated gzip members, zstd
// frames, plain), told apart by magic bytes as for a real layer. Invariants:
// only ImageError is thrown; no more than the limit ever reaches the writer;
// the returned size is what was written.
// fuzz-options: -max_len=16384 -runs=100000
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "image/byte_source.hpp"
#include "image/decompress.hpp"
#include "image/image_error.hpp"

using namespace ramfleet::image;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  MemorySource src({data, size}, "fuzz.blob");
  // A small limit: a bomb must stop here, not fill memory or time.
  const DecodeLimit limit{std::uint64_t{4} << 20, "the fuzz limit"};
  std::uint64_t seen = 0;
  try {
    auto n = decode_stream(src, 0, size, "fuzz.blob", limit, [&](std::span<const std::uint8_t> b) {
      seen += b.size();
      if (seen > limit.bytes) std::abort();
    });
    if (n != seen) std::abort();
  } catch (const ImageError&) {
  }
  return 0;
}
