// chunks.json: cut at fixed offsets, each chunk's sha256, the same manifest
// read back, and every inconsistent or oversized document refused.
#include "stage1/chunk_manifest.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/hex.hpp"

namespace ramfleet::stage1 {
namespace {

const std::string kId(64, 'a');

std::string bytes_of(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131) % 251);
  return s;
}

TEST(ChunkManifest, CutsAtFixedOffsetsAndHashesEachChunk) {
  const auto data = bytes_of(10000);
  const auto m = make_chunk_manifest(kId, "rootfs.cpio.zst", data, 4096);
  ASSERT_EQ(m.chunks.size(), 3U);
  EXPECT_EQ(m.size, 10000U);
  EXPECT_EQ(m.chunk_length(0), 4096U);
  EXPECT_EQ(m.chunk_length(2), 10000U - 8192U);
  EXPECT_EQ(m.chunk_length(3), 0U);
  EXPECT_EQ(m.chunk_offset(2), 8192U);
  for (std::size_t i = 0; i < 3; ++i)
    EXPECT_EQ(m.chunks[i], sha256(std::string_view(data).substr(m.chunk_offset(i), m.chunk_length(i))));
}

TEST(ChunkManifest, PiecewiseBuilderEqualsWholeFile) {
  const auto data = bytes_of(50000);
  ChunkManifestBuilder b(kId, "rootfs.cpio.zst", 4096);
  for (std::size_t off = 0; off < data.size(); off += 777) b.update(std::string_view(data).substr(off, 777));
  const auto piecewise = b.finish();
  const auto whole = make_chunk_manifest(kId, "rootfs.cpio.zst", data, 4096);
  EXPECT_EQ(piecewise.chunks, whole.chunks);
  EXPECT_EQ(piecewise.size, whole.size);
}

TEST(ChunkManifest, ExactMultipleHasNoEmptyLastChunk) {
  const auto m = make_chunk_manifest(kId, "rootfs.cpio.zst", bytes_of(8192), 4096);
  EXPECT_EQ(m.chunks.size(), 2U);
  EXPECT_EQ(m.chunk_length(1), 4096U);
}

TEST(ChunkManifest, RoundTripsThroughJson) {
  const auto m = make_chunk_manifest(kId, "rootfs.cpio.zst", bytes_of(9000), 4096);
  std::string error;
  const auto back = parse_chunk_manifest(to_json(m), error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->image_id, kId);
  EXPECT_EQ(back->file, "rootfs.cpio.zst");
  EXPECT_EQ(back->size, 9000U);
  EXPECT_EQ(back->chunk_size, 4096U);
  EXPECT_EQ(back->chunks, m.chunks);
  // The documented layout.
  const auto doc = nlohmann::json::parse(to_json(m));
  EXPECT_EQ(doc["chunks"][0], to_hex(ByteView(m.chunks[0].data(), 32)));
}

TEST(ChunkManifest, RefusesInconsistentDocuments) {
  const auto good = nlohmann::json::parse(to_json(make_chunk_manifest(kId, "rootfs.cpio.zst", bytes_of(9000), 4096)));
  auto mutate = [&](auto f) {
    auto d = good;
    f(d);
    return d.dump();
  };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"not json", "{"},
      {"array", "[]"},
      {"short id", mutate([](auto& d) { d["image"] = "abc"; })},
      {"upper-case id", mutate([](auto& d) { d["image"] = std::string(64, 'A'); })},
      {"path in file", mutate([](auto& d) { d["file"] = "../etc/passwd"; })},
      {"zero size", mutate([](auto& d) { d["size"] = 0; })},
      {"negative size", mutate([](auto& d) { d["size"] = -5; })},
      {"size not matching count", mutate([](auto& d) { d["size"] = 20000; })},
      {"tiny chunk", mutate([](auto& d) { d["chunk_size"] = 1; })},
      {"huge chunk", mutate([](auto& d) { d["chunk_size"] = std::uint64_t{1} << 40U; })},
      {"too many chunks", mutate([](auto& d) { d["size"] = std::uint64_t{4096} * (max_chunks + 1); })},
      {"missing chunk", mutate([](auto& d) { d["chunks"].erase(d["chunks"].size() - 1); })},
      {"bad hex", mutate([](auto& d) { d["chunks"][1] = std::string(64, 'g'); })},
      {"number chunk", mutate([](auto& d) { d["chunks"][1] = 7; })},
      {"deep nesting", std::string(100000, '[') + std::string(100000, ']')},
      {"too large", std::string(9U << 20U, ' ')},
  };
  for (const auto& [what, text] : cases) {
    SCOPED_TRACE(what);
    std::string error;
    EXPECT_FALSE(parse_chunk_manifest(text, error));
    EXPECT_FALSE(error.empty());
    EXPECT_LT(error.size(), 300U);
  }
}

}  // namespace
}  // namespace ramfleet::stage1
