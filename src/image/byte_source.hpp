#pragma once
// Random-access bytes to parse: a file, or memory (tests and fuzzing). The tar
// reader and the decoders read through this, so the same code that reads an
// archive from disk can be fuzzed on an in-memory one.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>

namespace ramfleet::image {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Total size in bytes.
  [[nodiscard]] virtual std::uint64_t size() const = 0;
  // Reads up to out.size() bytes at `offset`; returns how many were read
  // (fewer only at the end of the source).
  virtual std::size_t read_at(std::uint64_t offset, std::span<std::uint8_t> out) = 0;
  // Names the source in error messages.
  [[nodiscard]] virtual std::string name() const = 0;
};

class FileSource : public ByteSource {
 public:
  explicit FileSource(const std::filesystem::path& file);  // throws ImageError
  [[nodiscard]] std::uint64_t size() const override { return size_; }
  std::size_t read_at(std::uint64_t offset, std::span<std::uint8_t> out) override;
  [[nodiscard]] std::string name() const override { return file_.string(); }

 private:
  std::filesystem::path file_;
  std::ifstream in_;
  std::uint64_t size_ = 0;
};

class MemorySource : public ByteSource {
 public:
  MemorySource(std::span<const std::uint8_t> bytes, std::string name) : bytes_(bytes), name_(std::move(name)) {}
  [[nodiscard]] std::uint64_t size() const override { return bytes_.size(); }
  std::size_t read_at(std::uint64_t offset, std::span<std::uint8_t> out) override;
  [[nodiscard]] std::string name() const override { return name_; }

 private:
  std::span<const std::uint8_t> bytes_;
  std::string name_;
};

}  // namespace ramfleet::image
