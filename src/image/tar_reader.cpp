#include "image/tar_reader.hpp"

#include <array>
#include <charconv>
#include <fstream>
#include <vector>

#include "image/image_error.hpp"

namespace ramfleet::image {
namespace {

std::string field_string(std::span<const std::uint8_t, 512> b, std::size_t off, std::size_t len) {
  std::string s(reinterpret_cast<const char*>(b.data()) + off, len);
  auto nul = s.find('\0');
  if (nul != std::string::npos) s.resize(nul);
  return s;
}

// Octal (NUL/space padded) or GNU base-256 (high bit of the first byte set).
std::optional<std::uint64_t> field_number(std::span<const std::uint8_t, 512> b, std::size_t off, std::size_t len) {
  if (b[off] & 0x80) {
    if (b[off] & 0x40) return std::nullopt;  // negative
    std::uint64_t v = b[off] & 0x3f;
    for (std::size_t i = 1; i < len; ++i) {
      if (v >> 56) return std::nullopt;
      v = (v << 8) | b[off + i];
    }
    return v;
  }
  std::uint64_t v = 0;
  std::size_t i = 0;
  while (i < len && (b[off + i] == ' ' || b[off + i] == 0)) ++i;
  bool any = false;
  for (; i < len && b[off + i] >= '0' && b[off + i] <= '7'; ++i) {
    if (v >> 60) return std::nullopt;
    v = v * 8 + (b[off + i] - '0');
    any = true;
  }
  for (; i < len; ++i)
    if (b[off + i] != ' ' && b[off + i] != 0) return std::nullopt;
  return any ? v : 0;
}

}  // namespace

HeaderResult parse_tar_header(std::span<const std::uint8_t, 512> b, TarMember& m, std::string& error) {
  bool all_zero = true;
  for (auto c : b) all_zero = all_zero && c == 0;
  if (all_zero) return HeaderResult::zero_block;

  auto chksum = field_number(b, 148, 8);
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < 512; ++i) sum += (i >= 148 && i < 156) ? ' ' : b[i];
  if (!chksum || *chksum != sum) {
    error = "header checksum mismatch";
    return HeaderResult::bad;
  }
  auto mode = field_number(b, 100, 8), uid = field_number(b, 108, 8), gid = field_number(b, 116, 8);
  auto size = field_number(b, 124, 12), mtime = field_number(b, 136, 12);
  auto major = field_number(b, 329, 8), minor = field_number(b, 337, 8);
  if (!mode || !uid || !gid || !size || !mtime) {
    error = "bad numeric field";
    return HeaderResult::bad;
  }
  m.typeflag = b[156] == 0 ? '0' : static_cast<char>(b[156]);
  m.mode = static_cast<std::uint32_t>(*mode & 07777);
  m.uid = static_cast<std::uint32_t>(*uid);
  m.gid = static_cast<std::uint32_t>(*gid);
  m.size = *size;
  m.mtime = static_cast<std::int64_t>(*mtime);
  m.linkname = field_string(b, 157, 100);
  m.devmajor = static_cast<std::uint32_t>(major.value_or(0));
  m.devminor = static_cast<std::uint32_t>(minor.value_or(0));
  m.path = field_string(b, 0, 100);
  if (field_string(b, 257, 5) == "ustar") {
    auto prefix = field_string(b, 345, 155);
    if (!prefix.empty()) m.path = prefix + "/" + m.path;
  }
  return HeaderResult::member;
}

bool apply_pax_records(std::string_view rec, TarMember& m, std::string& error) {
  while (!rec.empty()) {
    auto space = rec.find(' ');
    std::size_t len = 0;
    if (space == std::string_view::npos || std::from_chars(rec.data(), rec.data() + space, len).ec != std::errc{} ||
        len <= space + 1 || len > rec.size() || rec[len - 1] != '\n') {
      error = "malformed pax record";
      return false;
    }
    auto kv = rec.substr(space + 1, len - space - 2);
    rec.remove_prefix(len);
    auto eq = kv.find('=');
    if (eq == std::string_view::npos) {
      error = "malformed pax record";
      return false;
    }
    auto key = kv.substr(0, eq);
    auto value = kv.substr(eq + 1);
    auto number = [&](auto& out) {
      std::uint64_t v = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      // mtime may be fractional ("1700000000.123"): the seconds are enough.
      if (ec != std::errc{} || (p != value.data() + value.size() && *p != '.')) return false;
      out = static_cast<std::remove_reference_t<decltype(out)>>(v);
      return true;
    };
    bool ok = true;
    if (key == "path")
      m.path = value;
    else if (key == "linkpath")
      m.linkname = value;
    else if (key == "size")
      ok = number(m.size);
    else if (key == "uid")
      ok = number(m.uid);
    else if (key == "gid")
      ok = number(m.gid);
    else if (key == "mtime")
      ok = number(m.mtime);
    if (!ok) {
      error = "bad pax value for " + std::string(key);
      return false;
    }
  }
  return true;
}

void read_tar(const std::filesystem::path& file, std::uint64_t offset, std::uint64_t length, const std::string& what,
              const std::function<void(const TarMember&)>& fn) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ImageError("cannot open " + file.string());
  const std::uint64_t end = offset + length;
  std::uint64_t pos = offset;
  std::array<std::uint8_t, 512> block{};
  std::optional<std::string> long_name, long_link, pax;
  auto fail = [&](const std::string& why) {
    throw ImageError(what + ": malformed tar at byte " + std::to_string(pos - offset) + ": " + why);
  };
  auto read_data = [&](std::uint64_t size) {
    if (size > (1u << 20)) fail("extended header larger than 1 MiB");
    std::string s(static_cast<std::size_t>(size), '\0');
    in.read(s.data(), static_cast<std::streamsize>(size));
    if (static_cast<std::uint64_t>(in.gcount()) != size) fail("truncated");
    return s;
  };
  while (pos + 512 <= end) {
    in.seekg(static_cast<std::streamoff>(pos));
    in.read(reinterpret_cast<char*>(block.data()), 512);
    if (in.gcount() != 512) fail("truncated header");
    TarMember m;
    std::string error;
    auto r = parse_tar_header(block, m, error);
    if (r == HeaderResult::zero_block) return;  // end of archive
    if (r == HeaderResult::bad) fail(error);
    pos += 512;
    m.data_offset = pos;
    std::uint64_t padded = (m.size + 511) / 512 * 512;
    if (m.typeflag == 'x' || m.typeflag == 'L' || m.typeflag == 'K' || m.typeflag == 'g') {
      if (pos + m.size > end) fail("truncated member");
      auto data = read_data(m.size);
      if (m.typeflag == 'x') pax = data;
      if (m.typeflag == 'L') long_name = data.substr(0, data.find('\0'));
      if (m.typeflag == 'K') long_link = data.substr(0, data.find('\0'));
      pos += padded;  // 'g' (global pax): nothing an image needs
      continue;
    }
    if (long_name) m.path = *long_name;
    if (long_link) m.linkname = *long_link;
    if (pax && !apply_pax_records(*pax, m, error)) fail(error);
    long_name.reset();
    long_link.reset();
    pax.reset();
    // Links, directories and devices carry no data whatever the size field says.
    if (m.typeflag >= '1' && m.typeflag <= '6') m.size = 0, padded = 0;
    if (pos + m.size > end) fail("truncated member " + m.path);
    fn(m);
    pos += padded;
  }
}

}  // namespace ramfleet::image
