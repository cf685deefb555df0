#include "image/decompress.hpp"

#include <zlib.h>
#include <zstd.h>

#include <fstream>
#include <memory>
#include <vector>

#include "image/image_error.hpp"

namespace ramfleet::image {

BlobEncoding sniff_encoding(std::string_view b) {
  auto starts = [&](std::string_view magic) { return b.substr(0, magic.size()) == magic; };
  if (starts("\x1f\x8b")) return BlobEncoding::gzip;
  if (starts("\x28\xb5\x2f\xfd")) return BlobEncoding::zstd;
  if (starts(std::string_view("\xfd"
                              "7zXZ\0",
                              6)))
    return BlobEncoding::xz;
  return BlobEncoding::plain;
}

namespace {

constexpr std::size_t kChunk = 1 << 17;
// zstd's decoder allocates a window as large as a frame asks for; refuse
// frames that want more than 128 MiB (zstd's own default; `zstd --long`
// writes 128 MiB windows).
constexpr int kZstdWindowLogMax = 27;

class RegionReader {
 public:
  RegionReader(ByteSource& src, std::uint64_t offset, std::uint64_t size, const std::string& what)
      : src_(src), pos_(offset), left_(size), what_(what) {
    if (offset > src.size() || size > src.size() - offset) throw ImageError(what + ": blob lies outside the archive");
  }
  // Returns the number of bytes read into buf; 0 at the end of the region.
  std::size_t read(std::vector<std::uint8_t>& buf) {
    auto n = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), left_));
    if (n == 0) return 0;
    if (src_.read_at(pos_, {buf.data(), n}) != n) throw ImageError(what_ + ": truncated");
    pos_ += n;
    left_ -= n;
    return n;
  }

 private:
  ByteSource& src_;
  std::uint64_t pos_, left_;
  const std::string& what_;
};

// Counts decoded bytes and refuses the chunk that would pass the limit.
class LimitedWriter {
 public:
  LimitedWriter(const DecodeLimit& limit, const ChunkWriter& out, const std::string& what)
      : limit_(limit), out_(out), what_(what) {}
  void write(const std::uint8_t* data, std::size_t n) {
    if (n == 0) return;
    if (n > limit_.bytes - written_)
      throw ImageError(what_ + ": decompressed size exceeds " + limit_.name + " of " + std::to_string(limit_.bytes) +
                       " bytes");
    written_ += n;
    out_({data, n});
  }
  [[nodiscard]] std::uint64_t written() const { return written_; }

 private:
  const DecodeLimit& limit_;
  const ChunkWriter& out_;
  const std::string& what_;
  std::uint64_t written_ = 0;
};

void gunzip(RegionReader& r, LimitedWriter& out, const std::string& what) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) throw ImageError("cannot initialise zlib");
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, inflateEnd);
  std::vector<std::uint8_t> in(kChunk), buf(kChunk);
  int rc = Z_OK;
  std::size_t n = 0;
  while ((n = r.read(in)) > 0) {
    zs.next_in = in.data();
    zs.avail_in = static_cast<uInt>(n);
    while (zs.avail_in > 0) {
      // Concatenated gzip members (pigz, some registries) continue the stream.
      if (rc == Z_STREAM_END && inflateReset(&zs) != Z_OK) throw ImageError(what + ": corrupt gzip data");
      zs.next_out = buf.data();
      zs.avail_out = static_cast<uInt>(buf.size());
      rc = inflate(&zs, Z_NO_FLUSH);
      if (rc != Z_OK && rc != Z_STREAM_END) throw ImageError(what + ": corrupt gzip data");
      out.write(buf.data(), buf.size() - zs.avail_out);
    }
  }
  // Output may still be pending with all input consumed (a highly compressed
  // tail): drain it, bounded by the limit like everything else.
  while (rc == Z_OK) {
    zs.next_out = buf.data();
    zs.avail_out = static_cast<uInt>(buf.size());
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc == Z_BUF_ERROR) break;  // no progress possible: the input ended early
    if (rc != Z_OK && rc != Z_STREAM_END) throw ImageError(what + ": corrupt gzip data");
    out.write(buf.data(), buf.size() - zs.avail_out);
  }
  if (rc != Z_STREAM_END) throw ImageError(what + ": truncated gzip data");
}

void unzstd(RegionReader& r, LimitedWriter& out, const std::string& what) {
  std::unique_ptr<ZSTD_DCtx, std::size_t (*)(ZSTD_DCtx*)> ctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (!ctx) throw ImageError("cannot initialise zstd");
  ZSTD_DCtx_setParameter(ctx.get(), ZSTD_d_windowLogMax, kZstdWindowLogMax);
  std::vector<std::uint8_t> in(kChunk), buf(ZSTD_DStreamOutSize());
  std::size_t last = 1, n = 0;
  auto step = [&](ZSTD_inBuffer& ib) {
    ZSTD_outBuffer ob{buf.data(), buf.size(), 0};
    last = ZSTD_decompressStream(ctx.get(), &ob, &ib);
    if (ZSTD_isError(last)) throw ImageError(what + ": corrupt zstd data: " + ZSTD_getErrorName(last));
    out.write(buf.data(), ob.pos);
    return ob.pos == buf.size();  // output full: more may be pending
  };
  while ((n = r.read(in)) > 0) {
    ZSTD_inBuffer ib{in.data(), n, 0};
    while (ib.pos < ib.size) step(ib);
  }
  // Flush what the decoder holds once the input is all in.
  ZSTD_inBuffer empty{nullptr, 0, 0};
  while (last != 0 && step(empty)) {
  }
  if (last != 0) throw ImageError(what + ": truncated zstd data");
}

}  // namespace

std::uint64_t decode_stream(ByteSource& src, std::uint64_t offset, std::uint64_t size, const std::string& what,
                            const DecodeLimit& limit, const ChunkWriter& out) {
  RegionReader r(src, offset, size, what);
  std::vector<std::uint8_t> head(6);
  head.resize(src.read_at(offset, {head.data(), static_cast<std::size_t>(std::min<std::uint64_t>(size, 6))}));
  LimitedWriter w(limit, out, what);
  switch (sniff_encoding({reinterpret_cast<const char*>(head.data()), head.size()})) {
    case BlobEncoding::gzip:
      gunzip(r, w, what);
      break;
    case BlobEncoding::zstd:
      unzstd(r, w, what);
      break;
    case BlobEncoding::xz:
      throw ImageError(what + ": xz-compressed layers are not supported (use gzip or zstd)");
    case BlobEncoding::plain: {
      std::vector<std::uint8_t> buf(kChunk);
      for (std::size_t n = 0; (n = r.read(buf)) > 0;) w.write(buf.data(), n);
      break;
    }
  }
  return w.written();
}

std::uint64_t decode_region(const std::filesystem::path& src, std::uint64_t offset, std::uint64_t size,
                            const std::filesystem::path& dest, const std::string& what_in, const DecodeLimit& limit) {
  std::string what = what_in.empty() ? src.string() + "@" + std::to_string(offset) : what_in;
  FileSource source(src);
  std::ofstream out(dest, std::ios::binary | std::ios::trunc);
  if (!out) throw ImageError("cannot create " + dest.string());
  auto n = decode_stream(source, offset, size, what, limit, [&](std::span<const std::uint8_t> b) {
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    if (!out) throw ImageError("write error on " + dest.string());
  });
  out.close();
  if (!out) throw ImageError("write error on " + dest.string());
  return n;
}

}  // namespace ramfleet::image
