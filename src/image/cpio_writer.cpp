#include "image/cpio_writer.hpp"

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "image/image_error.hpp"

namespace ramfleet::image {
namespace {

std::uint32_t type_bits(EntryType t) {
  switch (t) {
    case EntryType::directory:
      return 0040000;
    case EntryType::regular:
      return 0100000;
    case EntryType::symlink:
      return 0120000;
    case EntryType::char_device:
      return 0020000;
    case EntryType::block_device:
      return 0060000;
    case EntryType::fifo:
      return 0010000;
  }
  return 0100000;
}

void put_bytes(ByteSink& out, std::string_view s) {
  out.write({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
}

void pad4(ByteSink& out, std::uint64_t written) {
  static constexpr std::uint8_t kZeros[4] = {0, 0, 0, 0};
  auto rem = written % 4;
  if (rem != 0) out.write({kZeros, static_cast<std::size_t>(4 - rem)});
}

void header(ByteSink& out, std::uint32_t ino, std::uint32_t mode, const FsEntry& e, std::uint32_t nlink,
            std::uint32_t mtime, std::uint64_t filesize, const std::string& name) {
  if (filesize > 0xffffffffu) throw ImageError(name + ": larger than 4 GiB, which newc cpio cannot hold");
  char buf[6 + 13 * 8 + 1];
  std::snprintf(buf, sizeof buf, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", ino, mode, e.uid, e.gid,
                nlink, mtime, static_cast<std::uint32_t>(filesize), 0u, 0u, e.rdev_major, e.rdev_minor,
                static_cast<std::uint32_t>(name.size() + 1), 0u);
  put_bytes(out, std::string_view(buf, 110));
  put_bytes(out, name);
  put_bytes(out, std::string_view("\0", 1));
  pad4(out, 110 + name.size() + 1);
}

void copy_data(ByteSink& out, const DataSource& d, const std::string& name, std::vector<std::uint8_t>& buf) {
  std::ifstream in(d.file, std::ios::binary);
  if (!in) throw ImageError("cannot open " + d.file.string() + " for " + name);
  in.seekg(static_cast<std::streamoff>(d.offset));
  for (std::uint64_t left = d.size; left > 0;) {
    auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size()));
    in.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(n));
    if (static_cast<std::size_t>(in.gcount()) != n)
      throw ImageError(d.file.string() + ": shorter than expected while adding " + name + " (changed during build?)");
    out.write({buf.data(), n});
    left -= n;
  }
  pad4(out, d.size);
}

std::uint32_t clamp_mtime(std::int64_t t) {
  if (t < 0) return 0;
  if (t > 0xffffffffLL) return 0xffffffffu;
  return static_cast<std::uint32_t>(t);
}

}  // namespace

CpioStats write_cpio(const FsTree& tree, ByteSink& out, const CpioOptions& options) {
  CpioStats stats;
  std::vector<std::uint8_t> buf(1 << 17);
  std::uint32_t ino = 0;
  for (const auto& [name, e] : tree.entries()) {
    ++ino;
    std::uint32_t mode = type_bits(e.type) | (e.permissions & 07777);
    std::uint32_t mtime = clamp_mtime(options.fixed_mtime.value_or(e.mtime));
    std::uint32_t nlink = e.type == EntryType::directory ? 2 : 1;
    switch (e.type) {
      case EntryType::regular:
        header(out, ino, mode, e, nlink, mtime, e.data.size, name);
        copy_data(out, e.data, name, buf);
        stats.file_bytes += e.data.size;
        break;
      case EntryType::symlink:
        header(out, ino, mode, e, nlink, mtime, e.link_target.size(), name);
        put_bytes(out, e.link_target);
        pad4(out, e.link_target.size());
        break;
      default:
        header(out, ino, mode, e, nlink, mtime, 0, name);
        break;
    }
    ++stats.entries;
  }
  FsEntry trailer;
  header(out, 0, 0, trailer, 1, 0, 0, "TRAILER!!!");
  return stats;
}

}  // namespace ramfleet::image
