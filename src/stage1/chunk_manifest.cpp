#include "stage1/chunk_manifest.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/hex.hpp"
#include "core/json_nesting.hpp"

namespace ramfleet::stage1 {
namespace {
using json = nlohmann::json;

// A manifest of max_chunks chunks is ~4.4 MiB of text; anything much larger
// is not one, and is refused before the JSON parser allocates for it.
constexpr std::size_t kMaxText = 8U << 20U;
constexpr std::size_t kMaxFileName = 128;
// The document is an object of scalars and one array of strings: depth 2.
// Deeper nesting is refused before parsing (the parser's and the value's
// destructor's work grow with depth).
constexpr int kMaxDepth = 4;

bool plain_file_name(std::string_view s) {
  if (s.empty() || s.size() > kMaxFileName || s == "." || s == "..") return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
           c == '_';
  });
}

std::uint64_t chunk_count(std::uint64_t size, std::uint64_t chunk_size) {
  return size / chunk_size + (size % chunk_size != 0 ? 1 : 0);
}

std::optional<ChunkManifest> fail(std::string& error, std::string message) {
  error = "chunk manifest: " + std::move(message);
  return std::nullopt;
}
}  // namespace

std::uint64_t ChunkManifest::chunk_length(std::size_t index) const {
  const std::uint64_t start = chunk_offset(index);
  if (start >= size) return 0;
  return std::min<std::uint64_t>(chunk_size, size - start);
}

ChunkManifestBuilder::ChunkManifestBuilder(std::string image_id, std::string file, std::uint64_t chunk_size) {
  manifest_.image_id = std::move(image_id);
  manifest_.file = std::move(file);
  manifest_.chunk_size = chunk_size == 0 ? default_chunk_size : chunk_size;
}

void ChunkManifestBuilder::update(std::string_view bytes) {
  while (!bytes.empty()) {
    const auto take = std::min<std::uint64_t>(bytes.size(), manifest_.chunk_size - in_current_);
    current_.update(ByteView(reinterpret_cast<const std::uint8_t*>(bytes.data()), take));
    in_current_ += take;
    manifest_.size += take;
    bytes.remove_prefix(take);
    if (in_current_ == manifest_.chunk_size) {
      manifest_.chunks.push_back(current_.finish());
      in_current_ = 0;
    }
  }
}

ChunkManifest ChunkManifestBuilder::finish() {
  if (in_current_ != 0) manifest_.chunks.push_back(current_.finish());
  in_current_ = 0;
  return std::move(manifest_);
}

ChunkManifest make_chunk_manifest(std::string image_id, std::string file, std::string_view bytes,
                                  std::uint64_t chunk_size) {
  ChunkManifestBuilder b(std::move(image_id), std::move(file), chunk_size);
  b.update(bytes);
  return b.finish();
}

std::string to_json(const ChunkManifest& manifest) {
  json chunks = json::array();
  for (const auto& d : manifest.chunks) chunks.push_back(to_hex(ByteView(d.data(), d.size())));
  const json doc{{"image", manifest.image_id},
                 {"file", manifest.file},
                 {"size", manifest.size},
                 {"chunk_size", manifest.chunk_size},
                 {"chunks", std::move(chunks)}};
  return doc.dump() + "\n";
}

std::optional<ChunkManifest> parse_chunk_manifest(std::string_view text, std::string& error) {
  error.clear();
  if (text.size() > kMaxText) return fail(error, "larger than " + std::to_string(kMaxText) + " bytes");
  if (!json_nests_within(text, kMaxDepth)) return fail(error, "nested deeper than a manifest is");
  const json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return fail(error, "not valid JSON");
  if (!doc.is_object()) return fail(error, "not a JSON object");

  ChunkManifest m;
  const auto image = doc.find("image");
  if (image == doc.end() || !image->is_string() || !is_sha256_hex(image->get_ref<const std::string&>()))
    return fail(error, "\"image\" must be 64 lower-case hex digits");
  m.image_id = image->get<std::string>();
  const auto file = doc.find("file");
  if (file == doc.end() || !file->is_string() || !plain_file_name(file->get_ref<const std::string&>()))
    return fail(error, "\"file\" must be a plain file name (letters, digits, '.', '-', '_')");
  m.file = file->get<std::string>();
  const auto size = doc.find("size");
  if (size == doc.end() || !size->is_number_unsigned() || size->get<std::uint64_t>() == 0)
    return fail(error, "\"size\" must be a positive integer");
  m.size = size->get<std::uint64_t>();
  const auto chunk_size = doc.find("chunk_size");
  if (chunk_size == doc.end() || !chunk_size->is_number_unsigned() ||
      chunk_size->get<std::uint64_t>() < min_chunk_size || chunk_size->get<std::uint64_t>() > max_chunk_size)
    return fail(error, "\"chunk_size\" must be an integer from " + std::to_string(min_chunk_size) + " to " +
                           std::to_string(max_chunk_size));
  m.chunk_size = chunk_size->get<std::uint64_t>();
  const std::uint64_t expected = chunk_count(m.size, m.chunk_size);
  if (expected > max_chunks)
    return fail(error, "an image of " + std::to_string(m.size) + " bytes needs " + std::to_string(expected) +
                           " chunks, more than " + std::to_string(max_chunks));
  const auto chunks = doc.find("chunks");
  if (chunks == doc.end() || !chunks->is_array()) return fail(error, "\"chunks\" must be an array");
  if (chunks->size() != expected)
    return fail(error, "\"chunks\" has " + std::to_string(chunks->size()) + " entries; size " + std::to_string(m.size) +
                           " at chunk_size " + std::to_string(m.chunk_size) + " needs " + std::to_string(expected));
  m.chunks.reserve(chunks->size());
  for (std::size_t i = 0; i < chunks->size(); ++i) {
    const auto& c = (*chunks)[i];
    if (!c.is_string() || !is_sha256_hex(c.get_ref<const std::string&>()))
      return fail(error, "chunk " + std::to_string(i) + " is not 64 lower-case hex digits");
    const auto bytes = from_hex(c.get_ref<const std::string&>());
    Sha256Digest d{};
    std::copy(bytes->begin(), bytes->end(), d.begin());
    m.chunks.push_back(d);
  }
  return m;
}

}  // namespace ramfleet::stage1
