// Machine files (machines/<name>.yaml): the names the operator API accepts,
// the text it writes, and what the loader makes of it.
#include "inventory/machine_file.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "inventory/loader.hpp"
#include "inventory/matcher.hpp"

using namespace ramfleet;
using namespace ramfleet::inventory;
namespace fs = std::filesystem;

TEST(MachineName, DnsLabelsOnly) {
  for (const char* good : {"node7", "n", "rack1-node-07", "0node"}) EXPECT_EQ(machine_name_refusal(good), "") << good;
  const std::string nul("a\0b", 3);
  for (const std::string& bad : {std::string(""), std::string(".."), std::string("../etc/passwd"), std::string("a/b"),
                                 std::string("/abs"), std::string("."), std::string("node.7"), std::string("Node7"),
                                 std::string("-node"), std::string("node-"), std::string("a b"), std::string("a\nb"),
                                 nul, std::string(64, 'a'), std::string(100000, 'a'), std::string("n\xc3\xa9")}) {
    EXPECT_NE(machine_name_refusal(bad), "") << bad;
  }
  EXPECT_EQ(machine_name_refusal(std::string(63, 'a')), "");
  // A refusal never echoes a huge or unprintable name back.
  EXPECT_LT(machine_name_refusal(std::string(100000, 'a')).size(), 300u);
  EXPECT_EQ(machine_name_refusal(nul).find('\0'), std::string::npos);
}

TEST(GroupId, SpelledLikeAGroupIdAndNeverDotDot) {
  for (const char* good : {"workers", "rack_1", "edge.v2", "A-b"}) EXPECT_EQ(group_id_refusal(good), "") << good;
  for (const std::string& bad : {std::string(""), std::string("."), std::string(".."), std::string("../groups"),
                                 std::string("a/b"), std::string("a\0b", 3), std::string(65, 'g')}) {
    EXPECT_NE(group_id_refusal(bad), "") << bad;
  }
}

TEST(Label, KeysAndValuesBounded) {
  EXPECT_EQ(label_refusal("rack", "r1"), "");
  EXPECT_EQ(label_refusal("zone.name", "eu west: \"1\""), "");  // quotes and colons are data
  EXPECT_NE(label_refusal("", "x"), "");
  EXPECT_NE(label_refusal("-x", "x"), "");
  EXPECT_NE(label_refusal("a/b", "x"), "");
  EXPECT_NE(label_refusal(std::string(64, 'k'), "x"), "");
  EXPECT_NE(label_refusal("hostname", "x"), "");
  EXPECT_NE(label_refusal("k", std::string(254, 'v')), "");
  EXPECT_NE(label_refusal("k", "line\nbreak"), "");
  EXPECT_NE(label_refusal("k", std::string("nul\0", 4)), "");
}

TEST(MachineKey, MacOrUuid) {
  EXPECT_EQ(machine_key("52-54-00-00-00-07")->mac->str(), "52:54:00:00:00:07");
  EXPECT_EQ(machine_key("uuid-0F8FAD5B-D9CB-469F-A165-70867728950E")->uuid, "0f8fad5b-d9cb-469f-a165-70867728950e");
  EXPECT_FALSE(machine_key("node7"));
  EXPECT_FALSE(machine_key("uuid-nope"));
}

TEST(MachineFileText, QuotedSoNoValueAddsAKey) {
  MachineFile m;
  m.name = "node7";
  m.group = "workers";
  m.mac = MacAddress::parse("52:54:00:00:00:07");
  m.labels = {{"rack", "r1\"\ngroup: admins"}, {"zone", "eu"}};
  const auto text = render_machine_file(m, "Written by a test\nsecond line\x01");
  EXPECT_EQ(text.rfind("# Written by a test\n# second line?\n", 0), 0u) << text;
  EXPECT_NE(text.find("mac: \"52:54:00:00:00:07\"\n"), std::string::npos) << text;
  EXPECT_NE(text.find("group: \"workers\"\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  \"rack\": \"r1\\\"\\ngroup: admins\"\n"), std::string::npos) << text;
}

namespace {
class MachineFileLoad : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("rf-machines-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    for (const char* d : {"profiles", "groups", "machines"}) fs::create_directories(dir_ / d);
    write("profiles/debian.yaml", "kernel: vmlinuz\n");
    write("groups/workers.yaml", "profile: debian\nselector: {labels: {pool: w}}\nmetadata: {role: worker}\n");
    write("inventory.yaml", "default: exit\n");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& rel, const std::string& text) { std::ofstream(dir_ / rel) << text; }
  static std::string all(const Diagnostics& ds) {
    std::string s;
    for (const auto& d : ds) s += d.str() + "\n";
    return s;
  }
  fs::path dir_;
};
}  // namespace

TEST_F(MachineFileLoad, WrittenFileMakesTheMachineAMemberOfItsGroup) {
  MachineFile m;
  m.name = "node7";
  m.group = "workers";
  m.mac = MacAddress::parse("52:54:00:00:00:07");
  m.labels = {{"rack", "r1"}};
  const auto before_fp = inventory_fingerprint(dir_);
  write("machines/node7.yaml", render_machine_file(m, "test"));
  EXPECT_NE(inventory_fingerprint(dir_), before_fp);  // serve's poll sees it too
  auto r = load_inventory(dir_, {});
  ASSERT_TRUE(r.inventory) << all(r.diagnostics);
  auto facts = facts_from_params({{"mac", "52:54:00:00:00:07"}}).facts;
  auto d = decide(*r.inventory, facts);
  ASSERT_NE(d.group, nullptr) << d.reason;
  EXPECT_EQ(d.group->id, "workers");
  EXPECT_EQ(d.group->profile, "debian");
  EXPECT_EQ(d.group->metadata.at("hostname"), "node7");
  EXPECT_EQ(d.group->metadata.at("role"), "worker");
  EXPECT_EQ(d.group->metadata.at("rack"), "r1");
  EXPECT_NE(d.group->mark.file.find("machines/node7.yaml"), std::string::npos);
  // Another machine is not pulled in.
  EXPECT_EQ(decide(*r.inventory, facts_from_params({{"mac", "52:54:00:00:00:08"}}).facts).group, nullptr);
  Diagnostics diags;
  auto back = read_machine_file(dir_ / "machines/node7.yaml", diags);
  ASSERT_TRUE(back) << all(diags);
  EXPECT_EQ(back->labels, m.labels);
  EXPECT_EQ(back->group, "workers");
}

TEST_F(MachineFileLoad, UnknownGroupPatternsAndStrayKeysAreErrorsNamingTheFile) {
  for (const auto& [text, needle] : std::vector<std::pair<std::string, std::string>>{
           {"mac: \"52:54:00:00:00:07\"\ngroup: nosuch\n", "unknown group 'nosuch'"},
           {"mac: \"52:54:00:*\"\ngroup: workers\n", "not a MAC address"},
           {"group: workers\n", "exactly one of mac: or uuid:"},
           {"mac: \"52:54:00:00:00:07\"\ngroup: workers\nrole: admin\n", "role"},
           {"mac: \"52:54:00:00:00:07\"\ngroup: workers\nlabels: {hostname: evil}\n", "hostname"}}) {
    write("machines/node7.yaml", text);
    auto r = load_inventory(dir_, {});
    EXPECT_FALSE(r.inventory) << text;
    const auto msg = all(r.diagnostics);
    EXPECT_NE(msg.find("machines/node7.yaml"), std::string::npos) << msg;
    EXPECT_NE(msg.find(needle), std::string::npos) << msg;
  }
}

TEST_F(MachineFileLoad, TwoFilesForOneMachineTie) {
  write("machines/a.yaml", "mac: \"52:54:00:00:00:07\"\ngroup: workers\n");
  write("machines/b.yaml", "mac: \"52-54-00-00-00-07\"\ngroup: workers\n");
  auto r = load_inventory(dir_, {});
  EXPECT_FALSE(r.inventory);
  EXPECT_NE(all(r.diagnostics).find("ties"), std::string::npos) << all(r.diagnostics);
}

TEST_F(MachineFileLoad, ABadFileNameIsAnError) {
  write("machines/Node_7.yaml", "mac: \"52:54:00:00:00:07\"\ngroup: workers\n");
  auto r = load_inventory(dir_, {});
  EXPECT_FALSE(r.inventory);
  EXPECT_NE(all(r.diagnostics).find("DNS label"), std::string::npos) << all(r.diagnostics);
}
