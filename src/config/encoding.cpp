#include "config/encoding.hpp"

#include <zlib.h>

#include <array>
#include <cstdint>

#include "core/hex.hpp"

namespace ramfleet::config {

namespace {
constexpr std::string_view kB64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int b64_value(char c) {
  auto pos = kB64.find(c);
  return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

// RFC 3986 unreserved characters go through as they are.
bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

}  // namespace

std::string base64_encode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    std::uint32_t v = (std::uint32_t{static_cast<unsigned char>(data[i])} << 16) |
                      (std::uint32_t{static_cast<unsigned char>(data[i + 1])} << 8) |
                      std::uint32_t{static_cast<unsigned char>(data[i + 2])};
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  if (i < data.size()) {
    std::uint32_t v = std::uint32_t{static_cast<unsigned char>(data[i])} << 16;
    if (i + 1 < data.size()) v |= std::uint32_t{static_cast<unsigned char>(data[i + 1])} << 8;
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += i + 1 < data.size() ? kB64[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  std::size_t pad = 0;
  for (char c : text) {
    if (c == '=') {
      ++pad;
      continue;
    }
    if (c == '\n' || c == '\r') continue;
    int v = b64_value(c);
    if (v < 0 || pad > 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  if (pad > 2) return std::nullopt;
  return out;
}

std::string data_url(std::string_view data) {
  std::string pct = "data:,";
  for (unsigned char c : data) {
    if (unreserved(c)) {
      pct += static_cast<char>(c);
    } else {
      pct += '%';
      append_hex(pct, c, HexCase::upper);
    }
  }
  std::string b64 = "data:;base64," + base64_encode(data);
  return b64.size() < pct.size() ? b64 : pct;
}

std::optional<std::string> decode_data_url(std::string_view url) {
  if (url.substr(0, 5) != "data:") return std::nullopt;
  auto comma = url.find(',');
  if (comma == std::string_view::npos) return std::nullopt;
  std::string_view meta = url.substr(5, comma - 5);
  std::string_view payload = url.substr(comma + 1);
  if (meta.size() >= 7 && meta.substr(meta.size() - 7) == ";base64") return base64_decode(payload);
  std::string out;
  for (std::size_t i = 0; i < payload.size(); ++i) {
    if (payload[i] == '%') {
      if (i + 2 >= payload.size()) return std::nullopt;
      int hi = hex_value(payload[i + 1]);
      int lo = hex_value(payload[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += payload[i];
    }
  }
  return out;
}

std::string gzip_compress(std::string_view data) {
  z_stream zs{};
  // windowBits 15 + 16: gzip wrapper; memLevel 8; level 9.
  if (deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return {};
  gz_header header{};
  header.os = 3;  // Unix, whatever the build platform (zlib's default differs on macOS)
  header.time = 0;
  deflateSetHeader(&zs, &header);
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(data.size())) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return rc == Z_STREAM_END ? out : std::string{};
}

std::optional<std::string> gzip_decompress(std::string_view data) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return std::nullopt;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  std::string out;
  std::array<char, 16384> buf{};
  int rc = Z_OK;
  // Bounded: a config file larger than 64 MiB once inflated is refused.
  constexpr std::size_t kMax = std::size_t{64} << 20;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf.data());
    zs.avail_out = static_cast<uInt>(buf.size());
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) break;
    out.append(buf.data(), buf.size() - zs.avail_out);
    if (out.size() > kMax) {
      rc = Z_MEM_ERROR;
      break;
    }
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) return std::nullopt;
  return out;
}

}  // namespace ramfleet::config
