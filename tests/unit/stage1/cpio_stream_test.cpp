// The sans-IO newc parser: any split of the input gives the same entries,
// and malformed archives are errors that say where and what.
#include "stage1/cpio_stream.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "stage1_test_support.hpp"

namespace ramfleet::stage1 {
namespace {
using namespace testing;

struct Recorder : CpioHandler {
  std::vector<CpioEntry> entries;
  std::vector<std::string> bodies;
  int open = 0;
  void begin(const CpioEntry& e) override {
    EXPECT_EQ(open, 0);
    ++open;
    entries.push_back(e);
    bodies.emplace_back();
  }
  void data(ByteView p) override { bodies.back().append(as_text(p)); }
  void end() override { --open; }
};

std::vector<Entry> sample() {
  return {{"etc", 040755, "", 5},
          {"etc/hostname", 0100644, "node\n", 6, 1, 2},
          {"bin/sh", 0120777, "busybox", 7},
          {"big", 0104755, std::string(70001, 'x'), 8},
          {"empty", 0100600, ""},
          {"dev/console", 020600, "", 9, 0, 0, 5, 1}};
}

TEST(CpioStream, AnySplitGivesTheSameEntries) {
  std::string archive = make_cpio(sample()) + std::string(512, '\0');  // block padding after the trailer
  for (std::size_t step : {1ul, 3ul, 110ul, 111ul, 4096ul, archive.size()}) {
    Recorder r;
    CpioStream s(r);
    for (std::size_t i = 0; i < archive.size(); i += step)
      s.feed(bytes_of(archive.substr(i, std::min(step, archive.size() - i))));
    EXPECT_NO_THROW(s.finish());
    ASSERT_EQ(r.entries.size(), 6u) << step;
    EXPECT_EQ(r.open, 0);
    EXPECT_EQ(r.entries[1].name, "etc/hostname");
    EXPECT_EQ(r.entries[1].uid, 1u);
    EXPECT_EQ(r.entries[1].gid, 2u);
    EXPECT_EQ(r.entries[1].mtime, 6u);
    EXPECT_EQ(r.bodies[1], "node\n");
    EXPECT_EQ(r.entries[2].type, CpioType::symlink);
    EXPECT_EQ(r.bodies[2], "busybox");
    EXPECT_EQ(r.entries[3].permissions, 04755u);
    EXPECT_EQ(r.bodies[3].size(), 70001u);
    EXPECT_EQ(r.entries[5].type, CpioType::char_device);
    EXPECT_EQ(r.entries[5].rdev_major, 5u);
    EXPECT_EQ(r.entries[5].rdev_minor, 1u);
  }
}

std::string error_of(const std::string& archive, bool finish = true) {
  Recorder r;
  CpioStream s(r);
  try {
    s.feed(bytes_of(archive));
    if (finish) s.finish();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(CpioStream, MalformedArchivesAreErrors) {
  std::string good = make_cpio(sample());
  EXPECT_NE(error_of(good.substr(0, good.size() - 1)).find("truncated"), std::string::npos);
  EXPECT_NE(error_of(make_cpio(sample(), false)).find("TRAILER"), std::string::npos);
  EXPECT_NE(error_of("").find("empty"), std::string::npos);
  std::string bad_magic = good;
  bad_magic[5] = '7';
  EXPECT_NE(error_of(bad_magic).find("not a newc"), std::string::npos);
  std::string bad_hex = good;
  bad_hex[20] = 'G';
  EXPECT_NE(error_of(bad_hex).find("hex"), std::string::npos);
  EXPECT_NE(error_of(good + "junk").find("after the TRAILER"), std::string::npos);
  // A name size of 0 and one beyond PATH_MAX.
  std::string h = newc_header(Entry{"x"}, 1);
  std::string zero = h.substr(0, 94) + "00000000" + h.substr(102);
  EXPECT_NE(error_of(zero).find("name size 0"), std::string::npos);
  std::string huge = h.substr(0, 94) + "7FFFFFFF" + h.substr(102);
  EXPECT_NE(error_of(huge).find("name size"), std::string::npos);
  // A directory claiming data, a symlink without a target.
  EXPECT_NE(error_of(make_cpio({{"d", 040755, "data"}})).find("data bytes"), std::string::npos);
  EXPECT_NE(error_of(make_cpio({{"l", 0120777, ""}})).find("symlink target size"), std::string::npos);
  // A name that is not NUL-terminated where its size says.
  std::string no_nul = make_cpio({{"abc", 0100644, ""}});
  no_nul[110 + 3] = 'X';
  EXPECT_NE(error_of(no_nul).find("NUL"), std::string::npos);
  EXPECT_NE(error_of(make_cpio({{"weird", 0170644, ""}})).find("unknown file type"), std::string::npos);
}

}  // namespace
}  // namespace ramfleet::stage1
