#pragma once
// A chain of byte consumers: cpio writer -> compressor -> hashing file writer.
// Streaming keeps a 250 MB root out of memory.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <span>
#include <string>

#include "core/sha256.hpp"

namespace ramfleet::image {

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual void write(std::span<const std::uint8_t> bytes) = 0;
  // No more bytes: flush everything downstream.
  virtual void finish() = 0;
};

// SHA-256 and byte count of everything passing through, forwarded to `next`
// (may be null: hash only).
class HashingSink : public ByteSink {
 public:
  explicit HashingSink(ByteSink* next);
  void write(std::span<const std::uint8_t> bytes) override;
  void finish() override;
  [[nodiscard]] const std::string& hex_digest() const { return digest_; }  // after finish()
  [[nodiscard]] std::uint64_t size() const { return size_; }

 private:
  ByteSink* next_;
  Sha256 hash_;
  std::uint64_t size_ = 0;
  std::string digest_;
};

class FileSink : public ByteSink {
 public:
  explicit FileSink(const std::filesystem::path& path);
  void write(std::span<const std::uint8_t> bytes) override;
  // Flushes and fsyncs: after finish() the bytes are on disk.
  void finish() override;

 private:
  std::filesystem::path path_;
  std::ofstream out_;
};

enum class Compression { zstd, gzip };

// Compresses into `next`. Both formats are deterministic for the same input
// (gzip header mtime 0); the Linux kernel unpacks either as an initramfs.
std::unique_ptr<ByteSink> make_compressor(Compression c, ByteSink& next, int level);

std::string_view compression_name(Compression c);
std::string_view compression_suffix(Compression c);  // ".zst" / ".gz"

}  // namespace ramfleet::image
