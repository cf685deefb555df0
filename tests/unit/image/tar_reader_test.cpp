#include "image/tar_reader.hpp"

#include <gtest/gtest.h>

#include "image/image_error.hpp"
#include "test_support.hpp"

namespace ramfleet::image {
namespace {
using namespace testing;

std::vector<TarMember> members_of(const std::string& tar) {
  TempDir d;
  write_file(d.path / "a.tar", tar);
  std::vector<TarMember> out;
  read_tar(d.path / "a.tar", 0, tar.size(), "a.tar", [&](const TarMember& m) { out.push_back(m); });
  return out;
}

TEST(TarReader, ReadsFilesLinksAndDirectories) {
  auto ms = members_of(make_tar({{"etc/", '5', "", "", 0755},
                                 {"etc/hosts", '0', "127.0.0.1 localhost\n", "", 0644, 1, 2, 1234},
                                 {"etc/link", '2', "", "hosts"}}));
  ASSERT_EQ(ms.size(), 3u);
  EXPECT_EQ(ms[0].typeflag, '5');
  EXPECT_EQ(ms[1].path, "etc/hosts");
  EXPECT_EQ(ms[1].size, 20u);
  EXPECT_EQ(ms[1].uid, 1u);
  EXPECT_EQ(ms[1].gid, 2u);
  EXPECT_EQ(ms[1].mtime, 1234);
  EXPECT_EQ(ms[1].data_offset, 1024u);
  EXPECT_EQ(ms[2].linkname, "hosts");
}

TEST(TarReader, PaxPathOverridesTheHeaderName) {
  std::string long_name = "usr/share/" + std::string(120, 'x') + "/file";
  auto ms = members_of(make_tar({{long_name, '0', "data"}}));
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].path, long_name);
  EXPECT_EQ(ms[0].size, 4u);
}

TEST(TarReader, BadChecksumIsAnErrorNamingTheArchive) {
  auto tar = make_tar({{"f", '0', "x"}});
  tar[0] = 'g';  // name changed, checksum not
  try {
    members_of(tar);
    FAIL() << "expected ImageError";
  } catch (const ImageError& e) {
    EXPECT_NE(std::string(e.what()).find("a.tar: malformed tar at byte 0: header checksum mismatch"), std::string::npos)
        << e.what();
  }
}

TEST(TarReader, TruncatedMemberIsAnError) {
  auto tar = make_tar({{"f", '0', std::string(2000, 'x')}});
  tar.resize(1024);
  EXPECT_THROW(members_of(tar), ImageError);
}

TEST(TarReader, PaxRecordsParse) {
  TarMember m;
  std::string err;
  EXPECT_TRUE(apply_pax_records("19 path=some/where\n22 mtime=1700000000.5\n", m, err)) << err;
  EXPECT_EQ(m.path, "some/where");
  EXPECT_EQ(m.mtime, 1700000000);
  EXPECT_FALSE(apply_pax_records("99 path=x\n", m, err));
  EXPECT_FALSE(apply_pax_records("garbage", m, err));
}

}  // namespace
}  // namespace ramfleet::image
