#include "inventory/loader.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

using namespace ramfleet;
using namespace ramfleet::inventory;
namespace fs = std::filesystem;

namespace {
class LoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("rf-inv-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "profiles");
    fs::create_directories(dir_ / "groups");
    write("profiles/debian.yaml", "kernel: vmlinuz\ninitrds: [initrd.img]\nargs: [\"host={{hostname}}\"]\n");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& rel, const std::string& text) { std::ofstream(dir_ / rel) << text; }
  std::string all(const Diagnostics& ds) {
    std::string s;
    for (const auto& d : ds) s += d.str() + "\n";
    return s;
  }
  fs::path dir_;
};
}  // namespace

TEST_F(LoaderTest, LoadsGroupsMostSpecificFirst) {
  write("groups/a.yaml", "profile: debian\nselector: {mac: \"52:54:00:*\"}\n");
  write("groups/b.yaml", "profile: debian\nselector: {mac: \"52:54:00:00:00:01\"}\nmetadata: {role: cp}\n");
  write("inventory.yaml", "default: {profile: debian}\n");
  auto r = load_inventory(dir_, {});
  ASSERT_TRUE(r.inventory) << all(r.diagnostics);
  ASSERT_EQ(r.inventory->groups.size(), 2U);
  EXPECT_EQ(r.inventory->groups[0].id, "b");
  EXPECT_EQ(r.inventory->groups[0].metadata.at("role"), "cp");
  EXPECT_EQ(r.inventory->unmatched.kind, DefaultAction::Kind::profile);
}

TEST_F(LoaderTest, TieNamesBothFiles) {
  write("groups/rack1.yaml", "profile: debian\nselector:\n  mac: \"52:54:00:*\"\n");
  write("groups/x86.yaml", "profile: debian\nselector:\n  mac: \"52:54:*:00\"\n");
  auto r = load_inventory(dir_, {});
  EXPECT_FALSE(r.inventory);
  ASSERT_EQ(r.diagnostics.size(), 1U) << all(r.diagnostics);
  const auto msg = r.diagnostics[0].str();
  EXPECT_NE(msg.find("groups/x86.yaml:1:1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("groups/rack1.yaml:1:1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("ties"), std::string::npos) << msg;
}

TEST_F(LoaderTest, DisjointEqualGroupsAreNoTie) {
  write("groups/a.yaml", "profile: debian\nselector: {mac: \"52:54:00:*\"}\n");
  write("groups/b.yaml", "profile: debian\nselector: {mac: \"aa:bb:cc:*\"}\n");
  auto r = load_inventory(dir_, {});
  EXPECT_TRUE(r.inventory) << all(r.diagnostics);
}

TEST_F(LoaderTest, InvalidYamlHasLineAndColumn) {
  write("groups/bad.yaml", "profile: debian\nselector: {mac: [unclosed\n");
  auto r = load_inventory(dir_, {});
  EXPECT_FALSE(r.inventory);
  ASSERT_FALSE(r.diagnostics.empty());
  EXPECT_NE(r.diagnostics[0].file.find("groups/bad.yaml"), std::string::npos);
  EXPECT_GT(r.diagnostics[0].line, 0U);
  EXPECT_GT(r.diagnostics[0].column, 0U);
}

TEST_F(LoaderTest, UnknownProfileKeyAndSelectorAreErrors) {
  write("groups/a.yaml", "profile: nope\nselector:\n  macc: \"52:54:00:*\"\n");
  write("profiles/typo.yaml", "kernel: vmlinuz\narg: [x]\n");
  auto r = load_inventory(dir_, {});
  EXPECT_FALSE(r.inventory);
  const auto text = all(r.diagnostics);
  EXPECT_NE(text.find("groups/a.yaml:3:3: error: unknown selector key 'macc'"), std::string::npos) << text;
  EXPECT_NE(text.find("profiles/typo.yaml:2:1: error: unknown key 'arg'"), std::string::npos) << text;
}

TEST_F(LoaderTest, UnknownProfileInGroupAndDefault) {
  write("groups/a.yaml", "profile: nope\n");
  write("inventory.yaml", "default:\n  profile: missing\n");
  auto r = load_inventory(dir_, {});
  const auto text = all(r.diagnostics);
  EXPECT_NE(text.find("unknown profile 'nope'"), std::string::npos) << text;
  EXPECT_NE(text.find("inventory.yaml:2:12: error: default names unknown profile 'missing'"), std::string::npos)
      << text;
}

TEST_F(LoaderTest, BadTemplateIsAnError) {
  write("profiles/bad.yaml", "kernel: vmlinuz\nargs:\n  - \"x={{unclosed\"\n");
  auto r = load_inventory(dir_, {});
  EXPECT_FALSE(r.inventory);
  EXPECT_NE(all(r.diagnostics).find("profiles/bad.yaml:3:5: error: invalid template"), std::string::npos)
      << all(r.diagnostics);
}

// Which config targets and Ignition versions exist is the config compiler's
// to say (boot::load_inventory passes its rules); the loader asks and names
// the line of each value it was told is unknown.
TEST_F(LoaderTest, ConfigRulesJudgeTargetAndIgnitionVersion) {
  write("profiles/a.yaml", "kernel: vmlinuz\nconfig:\n  target: fancy\n  layers: []\n");
  write("profiles/b.yaml", "kernel: vmlinuz\nconfig:\n  target: ignition\n  ignition_version: \"2.0\"\n");
  write("profiles/c.yaml", "kernel: vmlinuz\nconfig:\n  target: ignition\n  ignition_version: \"3.1\"\n");
  std::vector<std::string> asked;
  ConfigRules rules;
  rules.known_target = [&](std::string_view t) {
    asked.emplace_back(t);
    return t == "ignition";
  };
  rules.supported_ignition_version = [&](std::string_view v) {
    asked.emplace_back(v);
    return v == "3.1";
  };
  auto r = load_inventory(dir_, rules);
  EXPECT_FALSE(r.inventory);
  const auto text = all(r.diagnostics);
  EXPECT_NE(text.find("profiles/a.yaml:3:11: error: unknown config target 'fancy'"), std::string::npos) << text;
  EXPECT_NE(text.find("profiles/b.yaml:4:21: error: ignition_version '2.0' is not a supported"), std::string::npos)
      << text;
  EXPECT_EQ(text.find("profiles/c.yaml"), std::string::npos) << text;
  EXPECT_EQ(asked.size(), 5U);  // three targets, two versions

  // Without rules the loader judges neither (the inventory alone cannot).
  write("profiles/b.yaml", "kernel: vmlinuz\n");
  write("profiles/a.yaml", "kernel: vmlinuz\nconfig:\n  target: fancy\n");
  EXPECT_TRUE(load_inventory(dir_, {}).inventory);
}

TEST_F(LoaderTest, FingerprintChangesOnEdit) {
  auto a = inventory_fingerprint(dir_);
  write("groups/a.yaml", "profile: debian\n");
  EXPECT_NE(a, inventory_fingerprint(dir_));
}
