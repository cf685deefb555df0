#include "stage1/root_writer.hpp"

#include <zstd.h>

#include <stdexcept>
#include <utility>
#include <vector>

#include "core/hex.hpp"
#include "stage1/cpio_stream.hpp"
#include "stage1/tree_writer.hpp"

namespace ramfleet::stage1 {

struct RootWriter::Impl {
  struct FreeDctx {
    void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
  };

  Impl(std::string target, Sha256Digest want) : dir(std::move(target)), expected(want), tree(dir), cpio(tree) {
    if (!dctx) throw std::runtime_error("cannot set up a zstd decoder");
    // The image builder writes with the default window; refuse frames that
    // would make this node allocate more than 128 MiB for the window.
    ZSTD_DCtx_setParameter(dctx.get(), ZSTD_d_windowLogMax, 27);
  }

  std::string dir;  // where the root goes (before `tree`, which opens it)
  Sha256Digest expected;
  Sha256 hasher;
  std::unique_ptr<ZSTD_DCtx, FreeDctx> dctx{ZSTD_createDCtx()};
  std::vector<std::uint8_t> out = std::vector<std::uint8_t>(ZSTD_DStreamOutSize());
  TreeWriter tree;
  CpioStream cpio;
  RootWriterStats stats;
  std::size_t last_zstd_hint = 1;  // 0: the last frame ended exactly at the input's end
  bool failed = false;
  bool finished = false;
};

RootWriter::RootWriter(std::string dir, Sha256Digest expected)
    : impl_(std::make_unique<Impl>(std::move(dir), expected)) {}

RootWriter::~RootWriter() = default;

void RootWriter::write(ByteView compressed) {
  auto& d = *impl_;
  if (d.failed) throw std::runtime_error("root writer used after an error");
  if (d.finished) throw std::runtime_error("root writer used after finish()");
  d.hasher.update(compressed);
  d.stats.compressed_bytes += compressed.size();
  ZSTD_inBuffer in{compressed.data(), compressed.size(), 0};
  try {
    // Until the input is used up and the decoder had room to spare (so it
    // holds no decoded bytes back).
    for (;;) {
      ZSTD_outBuffer out{d.out.data(), d.out.size(), 0};
      std::size_t hint = ZSTD_decompressStream(d.dctx.get(), &out, &in);
      if (ZSTD_isError(hint))
        throw std::runtime_error(std::string("corrupt root image (zstd: ") + ZSTD_getErrorName(hint) +
                                 ") at compressed byte " +
                                 std::to_string(d.stats.compressed_bytes - compressed.size() + in.pos));
      d.last_zstd_hint = hint;
      if (out.pos > 0) d.cpio.feed(ByteView(d.out.data(), out.pos));
      if (in.pos == in.size && out.pos < out.size) break;
    }
  } catch (...) {
    d.failed = true;
    throw;
  }
  d.stats.unpacked_bytes = d.tree.stats().file_bytes;
  d.stats.entries = d.tree.stats().entries;
}

void RootWriter::finish() {
  auto& d = *impl_;
  if (d.failed) throw std::runtime_error("root writer used after an error");
  if (d.finished) return;
  d.failed = true;  // until proven otherwise
  if (d.stats.compressed_bytes == 0) throw std::runtime_error("the root image is empty (no bytes received)");
  // The digest first: a wrong image is the more useful message than the
  // truncation it usually also is.
  auto got = d.hasher.finish();
  if (got != d.expected)
    throw std::runtime_error("root image digest mismatch: expected " + to_hex(d.expected) + ", got " + to_hex(got) +
                             " (" + std::to_string(d.stats.compressed_bytes) + " bytes received)");
  if (d.last_zstd_hint != 0) throw std::runtime_error("the root image ends inside a zstd frame (truncated)");
  d.cpio.finish();
  d.tree.finish();
  d.stats.unpacked_bytes = d.tree.stats().file_bytes;
  d.stats.entries = d.tree.stats().entries;
  d.failed = false;
  d.finished = true;
}

const RootWriterStats& RootWriter::stats() const { return impl_->stats; }

}  // namespace ramfleet::stage1
