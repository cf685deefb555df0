#include "image/byte_sink.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <vector>

#include "core/hex.hpp"
#include "image/image_error.hpp"

namespace ramfleet::image {

HashingSink::HashingSink(ByteSink* next) : next_(next) {}

void HashingSink::write(std::span<const std::uint8_t> bytes) {
  hash_.update(bytes);
  size_ += bytes.size();
  if (next_ != nullptr) next_->write(bytes);
}

void HashingSink::finish() {
  digest_ = to_hex(hash_.finish());
  if (next_ != nullptr) next_->finish();
}

FileSink::FileSink(const std::filesystem::path& path) : path_(path), out_(path, std::ios::binary | std::ios::trunc) {
  if (!out_) throw ImageError("cannot create " + path.string());
}

void FileSink::write(std::span<const std::uint8_t> bytes) {
  out_.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out_) throw ImageError("write error on " + path_.string());
}

void FileSink::finish() {
  out_.flush();
  if (!out_) throw ImageError("write error on " + path_.string());
  out_.close();
  // A crash after the rename must not leave a published image with missing bytes.
  int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

namespace {

class ZstdSink : public ByteSink {
 public:
  ZstdSink(ByteSink& next, int level) : next_(next), ctx_(ZSTD_createCCtx()), buf_(ZSTD_CStreamOutSize()) {
    if (ctx_ == nullptr) throw ImageError("cannot create zstd context");
    ZSTD_CCtx_setParameter(ctx_, ZSTD_c_compressionLevel, level);
    // Single-threaded: identical bytes on every machine and zstd build.
    ZSTD_CCtx_setParameter(ctx_, ZSTD_c_nbWorkers, 0);
  }
  ~ZstdSink() override { ZSTD_freeCCtx(ctx_); }
  ZstdSink(const ZstdSink&) = delete;
  ZstdSink& operator=(const ZstdSink&) = delete;

  void write(std::span<const std::uint8_t> bytes) override { run(bytes, ZSTD_e_continue); }
  void finish() override {
    run({}, ZSTD_e_end);
    next_.finish();
  }

 private:
  void run(std::span<const std::uint8_t> bytes, ZSTD_EndDirective mode) {
    ZSTD_inBuffer in{bytes.data(), bytes.size(), 0};
    for (;;) {
      ZSTD_outBuffer out{buf_.data(), buf_.size(), 0};
      std::size_t left = ZSTD_compressStream2(ctx_, &out, &in, mode);
      if (ZSTD_isError(left)) throw ImageError(std::string("zstd: ") + ZSTD_getErrorName(left));
      if (out.pos > 0) next_.write({buf_.data(), out.pos});
      if (mode == ZSTD_e_end ? left == 0 : in.pos == in.size) break;
    }
  }
  ByteSink& next_;
  ZSTD_CCtx* ctx_;
  std::vector<std::uint8_t> buf_;
};

class GzipSink : public ByteSink {
 public:
  GzipSink(ByteSink& next, int level) : next_(next), buf_(1 << 16) {
    // windowBits 15 + 16: gzip wrapper; zlib writes mtime 0 and a fixed OS byte.
    if (deflateInit2(&zs_, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
      throw ImageError("cannot initialise zlib");
  }
  ~GzipSink() override { deflateEnd(&zs_); }
  GzipSink(const GzipSink&) = delete;
  GzipSink& operator=(const GzipSink&) = delete;

  void write(std::span<const std::uint8_t> bytes) override { run(bytes, Z_NO_FLUSH); }
  void finish() override {
    run({}, Z_FINISH);
    next_.finish();
  }

 private:
  void run(std::span<const std::uint8_t> bytes, int flush) {
    zs_.next_in = const_cast<Bytef*>(bytes.data());
    zs_.avail_in = static_cast<uInt>(bytes.size());
    for (;;) {
      zs_.next_out = buf_.data();
      zs_.avail_out = static_cast<uInt>(buf_.size());
      int rc = deflate(&zs_, flush);
      if (rc == Z_STREAM_ERROR) throw ImageError("zlib: deflate failed");
      std::size_t produced = buf_.size() - zs_.avail_out;
      if (produced > 0) next_.write({buf_.data(), produced});
      if (flush == Z_FINISH ? rc == Z_STREAM_END : (zs_.avail_in == 0 && zs_.avail_out != 0)) break;
    }
  }
  ByteSink& next_;
  z_stream zs_{};
  std::vector<std::uint8_t> buf_;
};

}  // namespace

std::unique_ptr<ByteSink> make_compressor(Compression c, ByteSink& next, int level) {
  if (c == Compression::zstd) return std::make_unique<ZstdSink>(next, level);
  return std::make_unique<GzipSink>(next, level);
}

std::string_view compression_name(Compression c) { return c == Compression::zstd ? "zstd" : "gzip"; }
std::string_view compression_suffix(Compression c) { return c == Compression::zstd ? ".zst" : ".gz"; }

}  // namespace ramfleet::image
