#include "image/tar_reader.hpp"

#include <array>
#include <charconv>
#include <limits>

#include "image/image_error.hpp"

namespace ramfleet::image {
namespace {

constexpr std::uint64_t kBlock = 512;

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

// A name as it may appear in a message: cut short (the point is where it
// is, not 1 MiB of it) and without control bytes (a NUL would end the
// message, an escape sequence would reach the operator's terminal).
std::string printable(std::string_view name) {
  std::string out(name.substr(0, 200));
  for (auto& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return out;
}

constexpr std::uint64_t kMaxU32 = std::numeric_limits<std::uint32_t>::max();
constexpr std::uint64_t kMaxI64 = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());

// `size` data bytes plus the padding to the next block, clipped to `avail`
// (the bytes left in the region; size <= avail): a last member whose padding
// is cut off still reads, and nothing here can wrap around.
std::uint64_t padded_span(std::uint64_t size, std::uint64_t avail) {
  std::uint64_t pad = (kBlock - size % kBlock) % kBlock;
  return pad > avail - size ? avail : size + pad;
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
  auto bad = [&](const char* field) {
    error = std::string("bad numeric field: ") + field;
    return HeaderResult::bad;
  };
  // A value that does not fit its destination is refused rather than cut:
  // a uid of 2^32 must not become root.
  if (!mode) return bad("mode");
  if (!uid || *uid > kMaxU32) return bad("uid");
  if (!gid || *gid > kMaxU32) return bad("gid");
  if (!size) return bad("size");
  if (!mtime || *mtime > kMaxI64) return bad("mtime");
  m.typeflag = b[156] == 0 ? '0' : static_cast<char>(b[156]);
  m.mode = static_cast<std::uint32_t>(*mode & 07777);
  m.uid = static_cast<std::uint32_t>(*uid);
  m.gid = static_cast<std::uint32_t>(*gid);
  m.size = *size;
  m.mtime = static_cast<std::int64_t>(*mtime);
  m.linkname = field_string(b, 157, 100);
  // Device numbers matter only for '3'/'4'; other writers leave junk there.
  if (m.typeflag == '3' || m.typeflag == '4') {
    if (!major || *major > kMaxU32) return bad("devmajor");
    if (!minor || *minor > kMaxU32) return bad("devminor");
    m.devmajor = static_cast<std::uint32_t>(*major);
    m.devminor = static_cast<std::uint32_t>(*minor);
  } else {
    m.devmajor = m.devminor = 0;
  }
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
    // Whole value parsed, and in range of the field it lands in.
    const char* last = value.data() + value.size();
    auto unsigned_value = [&](auto& out, std::uint64_t hi) {
      std::uint64_t v = 0;
      auto [p, ec] = std::from_chars(value.data(), last, v);
      if (ec != std::errc{} || p != last || v > hi) return false;
      out = static_cast<std::remove_reference_t<decltype(out)>>(v);
      return true;
    };
    auto mtime_value = [&] {
      std::int64_t v = 0;
      auto [p, ec] = std::from_chars(value.data(), last, v);
      // mtime may be fractional ("1700000000.123"): the seconds are enough.
      if (ec != std::errc{} || (p != last && *p != '.')) return false;
      m.mtime = v;
      return true;
    };
    bool ok = true;
    if (key == "path")
      m.path = value;
    else if (key == "linkpath")
      m.linkname = value;
    else if (key == "size")
      ok = unsigned_value(m.size, std::numeric_limits<std::uint64_t>::max());
    else if (key == "uid")
      ok = unsigned_value(m.uid, kMaxU32);
    else if (key == "gid")
      ok = unsigned_value(m.gid, kMaxU32);
    else if (key == "mtime")
      ok = mtime_value();
    if (!ok) {
      error = "bad pax value for " + std::string(key);
      return false;
    }
  }
  return true;
}

void read_tar(ByteSource& src, std::uint64_t offset, std::uint64_t length, const std::string& what,
              const ImageLimits& limits, const TarVisitor& fn) {
  const std::uint64_t total = src.size();
  if (offset > total || length > total - offset)
    throw ImageError(what + ": tar region [" + std::to_string(offset) + ", +" + std::to_string(length) +
                     ") lies outside " + src.name());
  const std::uint64_t end = offset + length;  // <= total: cannot wrap
  std::uint64_t pos = offset;
  std::uint64_t members = 0;
  std::array<std::uint8_t, kBlock> block{};
  std::optional<std::string> long_name, long_link, pax;
  std::string entry;           // the entry being read, for messages
  std::uint64_t header = pos;  // where its header starts
  auto fail = [&](const std::string& why) {
    throw ImageError(what + ": malformed tar at byte " + std::to_string(header - offset) +
                     (entry.empty() ? "" : " (entry '" + entry + "')") + ": " + why);
  };
  auto read_extended = [&](std::uint64_t size, const char* kind) {
    if (size > limits.max_pax_bytes)
      fail(std::string(kind) + " of " + std::to_string(size) + " bytes exceeds the limit of " +
           std::to_string(limits.max_pax_bytes) + " bytes (--max-pax-size)");
    std::string s(static_cast<std::size_t>(size), '\0');
    if (src.read_at(pos, {reinterpret_cast<std::uint8_t*>(s.data()), s.size()}) != s.size()) fail("truncated");
    return s;
  };
  auto check_name = [&](const std::string& name, const char* kind) {
    entry = printable(name);
    if (name.size() > limits.max_name_bytes)
      fail(std::string(kind) + " of " + std::to_string(name.size()) + " bytes exceeds the limit of " +
           std::to_string(limits.max_name_bytes) + " bytes (--max-name-length)");
    if (name.find('\0') != std::string::npos) fail(std::string(kind) + " contains a NUL byte");
  };
  while (end - pos >= kBlock) {
    entry.clear();
    header = pos;
    if (src.read_at(pos, block) != kBlock) fail("truncated header");
    TarMember m;
    std::string error;
    auto r = parse_tar_header(block, m, error);
    if (r == HeaderResult::zero_block) return;  // end of archive
    if (r == HeaderResult::bad) fail(error);
    pos += kBlock;
    m.data_offset = pos;
    const std::uint64_t avail = end - pos;
    if (m.typeflag == 'x' || m.typeflag == 'L' || m.typeflag == 'K' || m.typeflag == 'g') {
      const char* kind = m.typeflag == 'x' || m.typeflag == 'g' ? "pax header" : "GNU long name";
      if (m.size > avail) fail(std::string(kind) + " of " + std::to_string(m.size) + " bytes is truncated");
      auto data = read_extended(m.size, kind);
      if (m.typeflag == 'x')
        pax = std::move(data);
      else if (m.typeflag == 'L')
        long_name = data.substr(0, data.find('\0'));
      else if (m.typeflag == 'K')
        long_link = data.substr(0, data.find('\0'));
      pos += padded_span(m.size, avail);  // 'g' (global pax): nothing an image needs
      continue;
    }
    if (long_name) m.path = *long_name;
    if (long_link) m.linkname = *long_link;
    entry = printable(m.path);
    if (pax && !apply_pax_records(*pax, m, error)) fail(error);
    long_name.reset();
    long_link.reset();
    pax.reset();
    check_name(m.linkname, "link target");
    check_name(m.path, "name");
    // Links, directories and devices carry no data whatever the size field says.
    if (m.typeflag >= '1' && m.typeflag <= '6') m.size = 0;
    if (m.size > avail)
      fail("size " + std::to_string(m.size) + " runs past the end of the archive (" + std::to_string(avail) +
           " bytes left): truncated or corrupt");
    if (++members > limits.max_entries)
      fail("more than " + std::to_string(limits.max_entries) + " entries (--max-entries)");
    fn(m);
    pos += padded_span(m.size, avail);
  }
  // Less than a block left: fine if it is zeros (a short end-of-archive
  // marker), else a header was cut off.
  entry.clear();
  header = pos;
  std::array<std::uint8_t, kBlock> rest{};
  auto left = static_cast<std::size_t>(end - pos);
  if (left > 0 && src.read_at(pos, {rest.data(), left}) == left)
    for (std::size_t i = 0; i < left; ++i)
      if (rest[i] != 0) fail("truncated header");
}

void read_tar(const std::filesystem::path& file, std::uint64_t offset, std::uint64_t length, const std::string& what,
              const TarVisitor& fn, const ImageLimits& limits) {
  FileSource src(file);
  read_tar(src, offset, length, what, limits, fn);
}

}  // namespace ramfleet::image
