#include "image/byte_source.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "image/image_error.hpp"

namespace ramfleet::image {

FileSource::FileSource(const std::filesystem::path& file) : file_(file), in_(file, std::ios::binary) {
  std::error_code ec;
  size_ = std::filesystem::file_size(file, ec);
  if (!in_ || ec) throw ImageError("cannot open " + file.string());
}

std::size_t FileSource::read_at(std::uint64_t offset, std::span<std::uint8_t> out) {
  if (offset >= size_ || out.empty()) return 0;
  // streamoff is signed: an offset past its range is past the file anyway.
  if (offset > static_cast<std::uint64_t>(std::numeric_limits<std::streamoff>::max())) return 0;
  in_.clear();
  in_.seekg(static_cast<std::streamoff>(offset));
  in_.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(out.size()));
  return static_cast<std::size_t>(in_.gcount());
}

std::size_t MemorySource::read_at(std::uint64_t offset, std::span<std::uint8_t> out) {
  if (offset >= bytes_.size()) return 0;
  auto n = static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), bytes_.size() - offset));
  std::memcpy(out.data(), bytes_.data() + offset, n);
  return n;
}

}  // namespace ramfleet::image
