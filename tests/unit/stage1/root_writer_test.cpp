// The root writer end to end: images made by `ramfleet image build`'s own
// code come out as the directory they were made from; truncated streams,
// wrong digests and hostile names are errors, and nothing is ever written
// outside the target directory.
#include "stage1/root_writer.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <random>
#include <stdexcept>

#include "core/hex.hpp"
#include "core/sha256.hpp"
#include "image/image_builder.hpp"
#include "stage1_test_support.hpp"

namespace ramfleet::stage1 {
namespace {
using namespace testing;
namespace fs = std::filesystem;

Sha256Digest digest_of(const std::string& s) { return sha256(as_bytes(s)); }

// Writes `compressed` in pieces of random size (1 byte to 64 KiB).
void write_all(RootWriter& w, const std::string& compressed, unsigned seed = 1) {
  std::mt19937 rng(seed);
  for (std::size_t i = 0; i < compressed.size();) {
    std::size_t n = std::min<std::size_t>(compressed.size() - i, 1 + rng() % 65536);
    w.write(bytes_of(compressed.substr(i, n)));
    i += n;
  }
}

std::string error_of(const fs::path& dir, const std::string& compressed, Sha256Digest want) {
  try {
    RootWriter w(dir.string(), want);
    write_all(w, compressed);
    w.finish();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

std::string error_of(const fs::path& dir, const std::string& compressed) {
  return error_of(dir, compressed, digest_of(compressed));
}

void make_rootfs(const fs::path& root) {
  write_file(root / "init", "#!/bin/sh\necho hi\n");
  ::chmod((root / "init").c_str(), 0755);
  write_file(root / "etc/hostname", "node\n");
  std::string big(3 * 1024 * 1024 + 17, '\0');
  std::mt19937 rng(7);
  for (auto& c : big) c = static_cast<char>(rng() % 7);  // compressible but not trivially
  write_file(root / "usr/lib/big", big);
  write_file(root / "usr/bin/suid", "x");
  ::chmod((root / "usr/bin/suid").c_str(), 04711);
  fs::create_directories(root / "empty");
  ::chmod((root / "empty").c_str(), 0555);  // read-only: written into last
  fs::create_directories(root / "tmp");
  ::chmod((root / "tmp").c_str(), 01777);
  fs::create_symlink("../usr/lib/big", root / "etc/big-link");
  fs::create_symlink("/nonexistent/absolute", root / "etc/dangling");
  ::mkfifo((root / "run-fifo").c_str(), 0640);
  struct timespec t[2] = {{123456, 0}, {123456, 0}};
  ::utimensat(AT_FDCWD, (root / "etc/hostname").c_str(), t, 0);
  ::utimensat(AT_FDCWD, (root / "etc/big-link").c_str(), t, AT_SYMLINK_NOFOLLOW);
  ::utimensat(AT_FDCWD, (root / "usr").c_str(), t, 0);
}

// Type, mode, size, contents, link target, mtime and owner of every entry.
std::map<std::string, std::string> describe(const fs::path& root) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    struct stat st {};
    ::lstat(it->path().c_str(), &st);
    std::string d = std::to_string(st.st_mode) + " " + std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid) +
                    " mtime=" + std::to_string(st.st_mtim.tv_sec);
    if (S_ISREG(st.st_mode)) d += " sha=" + sha256_hex(read_file(it->path()));
    if (S_ISLNK(st.st_mode)) d += " -> " + fs::read_symlink(it->path()).string();
    out[fs::relative(it->path(), root).string()] = d;
  }
  return out;
}

TEST(RootWriter, ImageBuiltByTheImageBuilderComesOutAsItsSource) {
  TempDir d;
  make_rootfs(d.path / "root");
  auto img =
      image::build_image({d.path / "root", d.path / "assets", image::Compression::zstd, 0, std::nullopt, {}, {}});
  std::string compressed = read_file(img.directory / "rootfs.cpio.zst");
  fs::create_directories(d.path / "out");
  Sha256Digest want{};
  auto id_bytes = from_hex(img.id);
  ASSERT_TRUE(id_bytes && id_bytes->size() == want.size());
  std::copy(id_bytes->begin(), id_bytes->end(), want.begin());
  RootWriter w((d.path / "out").string(), want);
  write_all(w, compressed, 3);
  w.finish();
  EXPECT_EQ(w.stats().compressed_bytes, compressed.size());
  EXPECT_EQ(w.stats().entries, img.entries);
  EXPECT_EQ(describe(d.path / "root"), describe(d.path / "out"));
  struct stat st {};
  ASSERT_EQ(::stat((d.path / "out/usr/bin/suid").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 04711u);  // setuid survives the chown
}

TEST(RootWriter, OneByteAtATimeGivesTheSameTree) {
  TempDir d;
  std::string compressed =
      zstd(make_cpio({{".", 040750, "", 1}, {"a", 040755}, {"a/f", 0100640, "hello", 99}, {"a/l", 0120777, "f"}}));
  fs::create_directories(d.path / "out");
  RootWriter w((d.path / "out").string(), digest_of(compressed));
  for (char c : compressed) w.write(bytes_of(std::string(1, c)));
  w.finish();
  EXPECT_EQ(read_file(d.path / "out/a/f"), "hello");
  EXPECT_EQ(fs::read_symlink(d.path / "out/a/l"), "f");
  struct stat st {};
  ::stat((d.path / "out").c_str(), &st);
  EXPECT_EQ(st.st_mode & 07777, 0750u);  // "." sets the root's own mode
  ::stat((d.path / "out/a/f").c_str(), &st);
  EXPECT_EQ(st.st_mtim.tv_sec, 99);
  EXPECT_EQ(w.stats().entries, 4u);
  EXPECT_EQ(w.stats().unpacked_bytes, 5u);
}

TEST(RootWriter, DigestMismatchIsReportedWithBothDigests) {
  TempDir d;
  std::string compressed = zstd(make_cpio({{"f", 0100644, "x"}}));
  auto wrong = digest_of("something else");
  auto err = error_of(d.path, compressed, wrong);
  EXPECT_NE(err.find("root image digest mismatch: expected " + to_hex(wrong) + ", got " + sha256_hex(compressed)),
            std::string::npos)
      << err;
}

TEST(RootWriter, TruncatedStreamsAreErrorsEvenWhenTheDigestMatches) {
  TempDir d;
  std::string archive = make_cpio({{"f", 0100644, std::string(100000, 'q')}, {"g", 0100644, "y"}});
  std::string compressed = zstd(archive);
  // Cut inside the zstd frame.
  fs::create_directories(d.path / "a");
  EXPECT_NE(error_of(d.path / "a", compressed.substr(0, compressed.size() - 3)).find("truncated"), std::string::npos);
  // A complete zstd frame of a cpio without its trailer.
  fs::create_directories(d.path / "b");
  auto err = error_of(d.path / "b", zstd(archive.substr(0, archive.size() - 124)));
  EXPECT_NE(err.find("TRAILER"), std::string::npos) << err;
  // Nothing at all.
  fs::create_directories(d.path / "c");
  EXPECT_NE(error_of(d.path / "c", "").find("empty"), std::string::npos);
  // Not zstd.
  fs::create_directories(d.path / "e");
  EXPECT_NE(error_of(d.path / "e", "this is not zstd at all").find("zstd"), std::string::npos);
}

TEST(RootWriter, HostileNamesAreRefusedAndNothingLandsOutside) {
  TempDir d;
  fs::create_directories(d.path / "outside");
  struct Case {
    std::vector<Entry> entries;
    std::string expect;
  };
  std::string outside = (d.path / "outside").string();
  std::vector<Case> cases = {
      {{{"/abs", 0100644, "x"}}, "absolute"},
      {{{"../up", 0100644, "x"}}, ".."},
      {{{"a", 040755}, {"a/../../up", 0100644, "x"}}, ".."},
      {{{"link", 0120777, outside}, {"link/file", 0100644, "x"}}, "symlink"},
      {{{"up", 0120777, ".."}, {"up/file", 0100644, "x"}}, "symlink"},
      {{{"link", 0120777, outside + "/victim"}, {"link", 0100644, "x"}}, "File exists"},
      {{{"link", 0120777, outside}, {"link", 040755}}, "mkdir"},
      {{{"f", 0100644, "x"}, {"f/g", 0100644, "x"}}, "not a directory"},
  };
  int n = 0;
  for (const auto& c : cases) {
    auto dir = d.path / ("case" + std::to_string(n++));
    fs::create_directories(dir);
    auto err = error_of(dir, zstd(make_cpio(c.entries)));
    EXPECT_NE(err.find(c.expect), std::string::npos) << "case " << n << ": " << err;
  }
  EXPECT_TRUE(fs::is_empty(d.path / "outside"));
  EXPECT_FALSE(fs::exists(d.path / "up"));
  EXPECT_FALSE(fs::exists(d.path / "file"));
}

TEST(RootWriter, DeviceNodesNeedRootAndSaySo) {
  TempDir d;
  std::string compressed = zstd(make_cpio({{"dev", 040755}, {"dev/null", 020666, "", 5, 0, 0, 1, 3}}));
  auto err = error_of(d.path, compressed);
  if (::geteuid() == 0) {
    EXPECT_EQ(err, "");
    struct stat st {};
    ASSERT_EQ(::lstat((d.path / "dev/null").c_str(), &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode));
    EXPECT_EQ(major(st.st_rdev), 1u);
    EXPECT_EQ(minor(st.st_rdev), 3u);
    EXPECT_EQ(st.st_mode & 07777, 0666u);
  } else {
    EXPECT_NE(err.find("cannot create dev/null: mknod needs root"), std::string::npos) << err;
  }
}

TEST(RootWriter, UsedAfterAnErrorKeepsFailing) {
  TempDir d;
  RootWriter w(d.path.string(), digest_of("x"));
  EXPECT_THROW(w.write(bytes_of(std::string("not zstd"))), std::runtime_error);
  EXPECT_THROW(w.write(bytes_of(std::string("more"))), std::runtime_error);
  EXPECT_THROW(w.finish(), std::runtime_error);
}

}  // namespace
}  // namespace ramfleet::stage1
