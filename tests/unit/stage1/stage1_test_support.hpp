#pragma once
// Helpers for the stage-1 tests: a scratch directory, a newc cpio writer for
// hand-made (and hostile) archives, zstd compression.
#include <zstd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/bytes.hpp"

namespace ramfleet::stage1::testing {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::random_device rd;
    path = std::filesystem::temp_directory_path() / ("ramfleet-stage1-test-" + std::to_string(rd()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
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

struct Entry {
  Entry(std::string n, unsigned m = 0100644, std::string d = "", unsigned mt = 1000, unsigned u = 0, unsigned g = 0,
        unsigned rmaj = 0, unsigned rmin = 0)
      : name(std::move(n)), mode(m), data(std::move(d)), mtime(mt), uid(u), gid(g), rmajor(rmaj), rminor(rmin) {}
  std::string name;
  unsigned mode;     // type and permission bits
  std::string data;  // file contents or symlink target
  unsigned mtime;
  unsigned uid, gid;
  unsigned rmajor, rminor;
};

inline void pad4(std::string& out) { out.append((4 - out.size() % 4) % 4, '\0'); }

inline std::string newc_header(const Entry& e, unsigned ino) {
  char buf[111];
  std::snprintf(buf, sizeof buf, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", ino, e.mode, e.uid,
                e.gid, 1u, e.mtime, static_cast<unsigned>(e.data.size()), 0u, 0u, e.rmajor, e.rminor,
                static_cast<unsigned>(e.name.size() + 1), 0u);
  return std::string(buf, 110);
}

inline std::string make_cpio(const std::vector<Entry>& entries, bool trailer = true) {
  std::string out;
  unsigned ino = 0;
  auto add = [&](const Entry& e) {
    out += newc_header(e, ++ino);
    out += e.name;
    out += '\0';
    pad4(out);
    out += e.data;
    pad4(out);
  };
  for (const auto& e : entries) add(e);
  if (trailer) add(Entry{"TRAILER!!!", 0, ""});
  return out;
}

inline std::string zstd(const std::string& in, int level = 3) {
  std::string out(ZSTD_compressBound(in.size()), '\0');
  auto n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), level);
  out.resize(ZSTD_isError(n) ? 0 : n);
  return out;
}

inline ByteView bytes_of(const std::string& s) { return as_bytes(s); }

}  // namespace ramfleet::stage1::testing
