#include "image/decompress.hpp"

#include <zlib.h>
#include <zstd.h>

#include <fstream>
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

class RegionReader {
 public:
  RegionReader(const std::filesystem::path& src, std::uint64_t offset, std::uint64_t size)
      : src_(src), in_(src, std::ios::binary), left_(size) {
    if (!in_) throw ImageError("cannot open " + src.string());
    in_.seekg(static_cast<std::streamoff>(offset));
  }
  // Returns the number of bytes read into buf; 0 at the end of the region.
  std::size_t read(std::vector<std::uint8_t>& buf) {
    auto n = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), left_));
    if (n == 0) return 0;
    in_.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(n));
    if (static_cast<std::size_t>(in_.gcount()) != n) throw ImageError(src_.string() + ": truncated");
    left_ -= n;
    return n;
  }

 private:
  std::filesystem::path src_;
  std::ifstream in_;
  std::uint64_t left_;
};

void write_all(std::ofstream& out, const std::uint8_t* data, std::size_t n, const std::filesystem::path& dest) {
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(n));
  if (!out) throw ImageError("write error on " + dest.string());
}

void gunzip(RegionReader& r, std::ofstream& out, const std::filesystem::path& dest, const std::string& what) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) throw ImageError("cannot initialise zlib");
  std::vector<std::uint8_t> in(kChunk), buf(kChunk);
  int rc = Z_OK;
  std::size_t n = 0;
  while ((n = r.read(in)) > 0) {
    zs.next_in = in.data();
    zs.avail_in = static_cast<uInt>(n);
    while (zs.avail_in > 0) {
      zs.next_out = buf.data();
      zs.avail_out = static_cast<uInt>(buf.size());
      rc = inflate(&zs, Z_NO_FLUSH);
      if (rc != Z_OK && rc != Z_STREAM_END) {
        inflateEnd(&zs);
        throw ImageError(what + ": corrupt gzip data");
      }
      write_all(out, buf.data(), buf.size() - zs.avail_out, dest);
      // Concatenated gzip members (pigz, some registries) continue the stream.
      if (rc == Z_STREAM_END && zs.avail_in > 0) inflateReset(&zs);
    }
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) throw ImageError(what + ": truncated gzip data");
}

void unzstd(RegionReader& r, std::ofstream& out, const std::filesystem::path& dest, const std::string& what) {
  ZSTD_DCtx* ctx = ZSTD_createDCtx();
  std::vector<std::uint8_t> in(kChunk), buf(ZSTD_DStreamOutSize());
  std::size_t last = 1, n = 0;
  try {
    while ((n = r.read(in)) > 0) {
      ZSTD_inBuffer ib{in.data(), n, 0};
      while (ib.pos < ib.size) {
        ZSTD_outBuffer ob{buf.data(), buf.size(), 0};
        last = ZSTD_decompressStream(ctx, &ob, &ib);
        if (ZSTD_isError(last)) throw ImageError(what + ": corrupt zstd data: " + ZSTD_getErrorName(last));
        write_all(out, buf.data(), ob.pos, dest);
      }
    }
    if (last != 0) throw ImageError(what + ": truncated zstd data");
  } catch (...) {
    ZSTD_freeDCtx(ctx);
    throw;
  }
  ZSTD_freeDCtx(ctx);
}

}  // namespace

void decode_region(const std::filesystem::path& src, std::uint64_t offset, std::uint64_t size,
                   const std::filesystem::path& dest) {
  std::string what = src.string() + "@" + std::to_string(offset);
  std::string head;
  {
    std::ifstream probe(src, std::ios::binary);
    probe.seekg(static_cast<std::streamoff>(offset));
    head.resize(static_cast<std::size_t>(std::min<std::uint64_t>(size, 6)));
    probe.read(head.data(), static_cast<std::streamsize>(head.size()));
  }
  std::ofstream out(dest, std::ios::binary | std::ios::trunc);
  if (!out) throw ImageError("cannot create " + dest.string());
  RegionReader r(src, offset, size);
  switch (sniff_encoding(head)) {
    case BlobEncoding::gzip:
      gunzip(r, out, dest, what);
      break;
    case BlobEncoding::zstd:
      unzstd(r, out, dest, what);
      break;
    case BlobEncoding::xz:
      throw ImageError(what + ": xz-compressed layers are not supported (use gzip or zstd)");
    case BlobEncoding::plain: {
      std::vector<std::uint8_t> buf(kChunk);
      for (std::size_t n = 0; (n = r.read(buf)) > 0;) write_all(out, buf.data(), n, dest);
      break;
    }
  }
  out.close();
  if (!out) throw ImageError("write error on " + dest.string());
}

}  // namespace ramfleet::image
