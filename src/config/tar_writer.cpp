#include "config/tar_writer.hpp"

#include <array>
#include <cstring>

namespace ramfleet::config {

namespace {

constexpr std::size_t kBlock = 512;

void put(std::array<char, kBlock>& h, std::size_t off, std::size_t len, const std::string& s) {
  std::memcpy(h.data() + off, s.data(), std::min(len, s.size()));
}

// Octal, zero-padded to len-1 digits, NUL-terminated.
bool put_octal(std::array<char, kBlock>& h, std::size_t off, std::size_t len, std::uint64_t v) {
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + (v & 7)));
    v >>= 3;
  } while (v != 0);
  if (digits.size() > len - 1) return false;
  digits.insert(digits.begin(), len - 1 - digits.size(), '0');
  put(h, off, len, digits);
  h[off + len - 1] = '\0';
  return true;
}

// ustar keeps names over 100 bytes as prefix (155) + '/' + name (100).
bool split_name(const std::string& path, std::string& name, std::string& prefix) {
  if (path.size() <= 100) {
    name = path;
    prefix.clear();
    return true;
  }
  for (std::size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1)) {
    if (slash <= 155 && path.size() - slash - 1 <= 100 && path.size() - slash - 1 > 0) {
      prefix = path.substr(0, slash);
      name = path.substr(slash + 1);
      return true;
    }
  }
  return false;
}

}  // namespace

std::optional<std::string> write_tar(const std::vector<TarEntry>& entries, std::string& error) {
  std::string out;
  for (const auto& e : entries) {
    std::array<char, kBlock> h{};
    std::string full = e.type == TarEntry::Type::directory ? e.path + "/" : e.path;
    std::string name, prefix;
    if (!split_name(full, name, prefix)) {
      error = "path too long for a tar archive: " + e.path;
      return std::nullopt;
    }
    if (e.linkname.size() > 100) {
      error = "link target too long for a tar archive: " + e.linkname;
      return std::nullopt;
    }
    put(h, 0, 100, name);
    put_octal(h, 100, 8, static_cast<std::uint64_t>(e.mode) & 07777);
    if (!put_octal(h, 108, 8, static_cast<std::uint64_t>(e.uid)) ||
        !put_octal(h, 116, 8, static_cast<std::uint64_t>(e.gid))) {
      error = "owner id too large for a tar archive: " + e.path;
      return std::nullopt;
    }
    std::uint64_t size = e.type == TarEntry::Type::file ? e.data.size() : 0;
    if (!put_octal(h, 124, 12, size)) {
      error = "file too large for a tar archive: " + e.path;
      return std::nullopt;
    }
    put_octal(h, 136, 12, 0);  // mtime: fixed, so the archive is reproducible
    char type = '0';
    if (e.type == TarEntry::Type::directory) type = '5';
    if (e.type == TarEntry::Type::symlink) type = '2';
    if (e.type == TarEntry::Type::hardlink) type = '1';
    h[156] = type;
    put(h, 157, 100, e.linkname);
    put(h, 257, 6, std::string("ustar\0", 6));
    put(h, 263, 2, "00");
    put(h, 265, 32, e.uname.substr(0, 31));
    put(h, 297, 32, e.gname.substr(0, 31));
    put_octal(h, 329, 8, 0);
    put_octal(h, 337, 8, 0);
    put(h, 345, 155, prefix);
    // Checksum: sum of the header bytes with the checksum field read as spaces.
    std::memset(h.data() + 148, ' ', 8);
    unsigned sum = 0;
    for (char c : h) sum += static_cast<unsigned char>(c);
    put_octal(h, 148, 7, sum);
    h[155] = ' ';
    out.append(h.data(), h.size());
    if (size > 0) {
      out += e.data;
      out.append((kBlock - size % kBlock) % kBlock, '\0');
    }
  }
  out.append(2 * kBlock, '\0');
  return out;
}

}  // namespace ramfleet::config
