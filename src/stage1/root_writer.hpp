#pragma once
// Stage 1's sink: the compressed root image's bytes, in order, go in; files
// come out under a directory (a fresh tmpfs on a node). The bytes are hashed
// as they pass, zstd-decoded on the fly and unpacked as a newc cpio, so the
// image is never held whole: no second copy. finish() says whether what was
// written is exactly the image ramfleet announced; on any error the caller
// must throw the directory's contents away (a node never switch_roots into a
// root that failed), which is why this writer never reports success early.
#include <memory>
#include <string>

#include "core/bytes.hpp"
#include "core/sha256.hpp"

namespace ramfleet::stage1 {

struct RootWriterStats {
  std::uint64_t compressed_bytes = 0;
  std::uint64_t unpacked_bytes = 0;  // bytes of file contents written
  std::uint64_t entries = 0;         // cpio entries created
};

class RootWriter {
 public:
  // `dir` must exist; entries are created beneath it and never outside it
  // (absolute names, `..` and symlinked parents are refused).
  RootWriter(std::string dir, Sha256Digest expected);
  ~RootWriter();
  RootWriter(const RootWriter&) = delete;
  RootWriter& operator=(const RootWriter&) = delete;

  // Throws std::runtime_error with a message fit for the console (corrupt
  // zstd, malformed cpio, a hostile path, a write that failed).
  void write(ByteView compressed);
  // Throws std::runtime_error when the stream ended early (no TRAILER!!!, an
  // unfinished zstd frame) or its sha256 differs from the expected digest
  // ("root image digest mismatch: expected X, got Y").
  void finish();
  const RootWriterStats& stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ramfleet::stage1
