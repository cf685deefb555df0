#pragma once
// Helpers for the image tests: a scratch directory, a small ustar writer to
// make layer and archive fixtures, a newc cpio reader to check what was
// written, and gzip/zstd decoders.
#include <zlib.h>
#include <zstd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "image/image_error.hpp"

namespace ramfleet::image::testing {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::random_device rd;
    path = std::filesystem::temp_directory_path() / ("ramfleet-image-test-" + std::to_string(rd()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_file(const std::filesystem::path& p, const std::string& data) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << data;
}

struct TarItem {
  TarItem(std::string n, char t = '0', std::string d = "", std::string l = "", unsigned m = 0644, unsigned u = 0,
          unsigned g = 0, long mt = 1000)
      : name(std::move(n)), type(t), data(std::move(d)), linkname(std::move(l)), mode(m), uid(u), gid(g), mtime(mt) {}
  std::string name;
  char type;
  std::string data;      // file contents
  std::string linkname;  // symlink/hardlink target
  unsigned mode;
  unsigned uid, gid;
  long mtime;
};

// len-1 zero-padded octal digits and a NUL, as ustar numeric fields are.
inline void octal(char* field, std::size_t len, unsigned long v) {
  for (std::size_t i = len - 1; i-- > 0; v >>= 3) field[i] = static_cast<char>('0' + (v & 7));
  field[len - 1] = '\0';
}

inline std::string tar_header(const TarItem& it, std::size_t size) {
  std::string h(512, '\0');
  std::snprintf(h.data(), 100, "%s", it.name.c_str());
  octal(h.data() + 100, 8, it.mode);
  octal(h.data() + 108, 8, it.uid);
  octal(h.data() + 116, 8, it.gid);
  octal(h.data() + 124, 12, size);
  octal(h.data() + 136, 12, static_cast<unsigned long>(it.mtime));
  h[156] = it.type;
  std::snprintf(h.data() + 157, 100, "%s", it.linkname.c_str());
  std::memcpy(h.data() + 257,
              "ustar\0"
              "00",
              8);
  std::memset(h.data() + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  octal(h.data() + 148, 7, sum);
  h[155] = ' ';
  return h;
}

// A tar archive; names longer than 99 characters use a pax header.
inline std::string make_tar(const std::vector<TarItem>& items) {
  std::string out;
  auto pad = [&] { out.append((512 - out.size() % 512) % 512, '\0'); };
  for (auto it : items) {
    if (it.name.size() > 99) {
      std::string rec = " path=" + it.name + "\n";
      std::size_t len = rec.size();
      while (std::to_string(len).size() + rec.size() != len) len = std::to_string(len).size() + rec.size();
      rec = std::to_string(len) + rec;
      TarItem pax{"PaxHeader", 'x', rec};
      out += tar_header(pax, rec.size());
      out += rec;
      pad();
      it.name = it.name.substr(0, 99);
    }
    out += tar_header(it, it.type == '0' ? it.data.size() : 0);
    if (it.type == '0') {
      out += it.data;
      pad();
    }
  }
  out.append(1024, '\0');
  return out;
}

inline std::string gzip(const std::string& in) {
  z_stream zs{};
  deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, in.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

inline std::string gunzip(const std::string& in) {
  z_stream zs{};
  inflateInit2(&zs, 15 + 32);
  std::string out;
  char buf[65536];
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
  }
  inflateEnd(&zs);
  return out;
}

inline std::string unzstd(const std::string& in) {
  auto size = ZSTD_getFrameContentSize(in.data(), in.size());
  std::string out;
  ZSTD_DCtx* ctx = ZSTD_createDCtx();
  std::vector<char> buf(ZSTD_DStreamOutSize());
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  while (ib.pos < ib.size) {
    ZSTD_outBuffer ob{buf.data(), buf.size(), 0};
    if (ZSTD_isError(ZSTD_decompressStream(ctx, &ob, &ib))) break;
    out.append(buf.data(), ob.pos);
  }
  ZSTD_freeDCtx(ctx);
  (void)size;
  return out;
}

struct CpioEntry {
  std::string name;
  unsigned ino = 0, mode = 0, uid = 0, gid = 0, nlink = 0, mtime = 0, rmajor = 0, rminor = 0;
  std::string data;
};

// Parses a newc archive; throws on a malformed one.
inline std::vector<CpioEntry> parse_newc(const std::string& a) {
  std::vector<CpioEntry> out;
  std::size_t pos = 0;
  auto hex = [&](std::size_t off) { return static_cast<unsigned>(std::stoul(a.substr(pos + off, 8), nullptr, 16)); };
  for (;;) {
    if (pos + 110 > a.size() || a.compare(pos, 6, "070701") != 0) throw ImageError("bad cpio header");
    CpioEntry e;
    e.ino = hex(6);
    e.mode = hex(14);
    e.uid = hex(22);
    e.gid = hex(30);
    e.nlink = hex(38);
    e.mtime = hex(46);
    unsigned filesize = hex(54);
    e.rmajor = hex(78);
    e.rminor = hex(86);
    unsigned namesize = hex(94);
    e.name = a.substr(pos + 110, namesize - 1);
    if (a[pos + 110 + namesize - 1] != '\0') throw ImageError("name not NUL-terminated");
    pos = (pos + 110 + namesize + 3) & ~std::size_t{3};
    e.data = a.substr(pos, filesize);
    pos = (pos + filesize + 3) & ~std::size_t{3};
    if (e.name == "TRAILER!!!") break;
    out.push_back(std::move(e));
  }
  if (pos != a.size()) throw ImageError("bytes after the trailer");
  return out;
}

inline std::map<std::string, CpioEntry> by_name(const std::vector<CpioEntry>& v) {
  std::map<std::string, CpioEntry> m;
  for (const auto& e : v) m[e.name] = e;
  return m;
}

}  // namespace ramfleet::image::testing
