// Node configs from the inventory: profile/group config fields at load, layer
// order cluster -> role -> group -> machine, variables, bad layer paths,
// config URLs, the fingerprint of config files, and the compile cache.
#include "boot/node_config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "boot/load_inventory.hpp"
#include "inventory/config_layers.hpp"
#include "inventory/matcher.hpp"

using namespace ramfleet;
using namespace ramfleet::inventory;
using namespace ramfleet::boot;
namespace fs = std::filesystem;

namespace {
class NodeConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("rf-nodecfg-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    write("configs/cluster.bu",
          "variant: fcos\nversion: 1.4.0\nstorage:\n  files:\n    - path: /etc/layers\n"
          "      contents: {inline: \"cluster={{cluster.name}}\\n\"}\n");
    write("configs/roles/worker.bu",
          "storage:\n  files:\n    - path: /etc/layers\n      append: [{inline: \"role={{group.role}}\\n\"}]\n");
    write("configs/groups/rack1.bu",
          "storage:\n  files:\n    - path: /etc/layers\n      append: [{inline: \"group={{labels.rack}}\\n\"}]\n");
    write(
        "configs/machines/52-54-00-00-00-07.bu",
        "storage:\n  files:\n    - path: /etc/layers\n      append: [{inline: \"machine={{hostname}} {{ip}}\\n\"}]\n");
    write("profiles/fc.yaml",
          "kernel: vmlinuz\nargs: [\"ign={{ignition_url}}\", \"cfg={{config_url}}\"]\nconfig:\n"
          "  target: ignition\n  layers: [cluster.bu, \"roles/{{group.role}}.bu\"]\n"
          "  machine_layers: [{path: \"machines/{{mac_hyphen}}.bu\", optional: true}]\n");
    write("groups/rack1.yaml",
          "profile: fc\nselector: {mac: \"52:54:00:*\", labels: {rack: r1}}\nmetadata: {role: worker}\n"
          "config: {layers: [groups/rack1.bu]}\n");
    write("inventory.yaml", "default: exit\ncluster: {name: alpha}\n");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& rel, const std::string& text) {
    fs::create_directories((dir_ / rel).parent_path());
    std::ofstream(dir_ / rel) << text;
  }
  static std::string all(const Diagnostics& ds) {
    std::string s;
    for (const auto& d : ds) s += d.str() + "\n";
    return s;
  }
  InventoryPtr load() {
    auto r = load_inventory(dir_);
    EXPECT_TRUE(r.inventory) << all(r.diagnostics);
    return r.inventory;
  }
  static MachineFacts facts(std::vector<std::pair<std::string, std::string>> params) {
    auto fr = facts_from_params(params);
    EXPECT_TRUE(fr.errors.empty());
    return fr.facts;
  }
  static std::string layers_file(const config::CompileResult& r) {
    // The Ignition file's data URL, percent-decoded enough for these ASCII contents.
    auto j = nlohmann::json::parse(*r.output);
    std::string src = j["storage"]["files"][0]["contents"]["source"];
    std::string out;
    for (std::size_t i = src.find(',') + 1; i < src.size(); ++i) {
      if (src[i] == '%') {
        out += static_cast<char>(std::stoi(src.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        out += src[i];
      }
    }
    for (const auto& a : j["storage"]["files"][0]["append"]) {
      std::string s = a["source"];
      for (std::size_t i = s.find(',') + 1; i < s.size(); ++i) {
        if (s[i] == '%') {
          out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
          i += 2;
        } else {
          out += s[i];
        }
      }
    }
    return out;
  }
  fs::path dir_;
};
}  // namespace

TEST_F(NodeConfigTest, LayersInOrderClusterRoleGroupMachine) {
  auto inv = load();
  ASSERT_TRUE(inv);
  auto f = facts({{"mac", "52:54:00:00:00:07"}, {"hostname", "n7"}, {"rack", "r1"}});
  auto d = decide(*inv, f);
  auto pr = plan_node_config(*inv, d.group, *d.profile, f, config::Target::ignition, {"http://s", "10.0.0.7"});
  ASSERT_TRUE(pr.plan) << pr.error;
  ASSERT_EQ(pr.plan->layer_files.size(), 4U);
  EXPECT_EQ(pr.plan->layer_files[1], (dir_ / "configs/roles/worker.bu").string());
  auto r = compile_node_config(*pr.plan);
  ASSERT_TRUE(r.ok()) << config::format_diagnostics(r.diagnostics);
  EXPECT_EQ(layers_file(r), "cluster=alpha\nrole=worker\ngroup=r1\nmachine=n7 10.0.0.7\n");

  // Another machine of the group: no machine layer (optional, absent).
  auto g = facts({{"mac", "52:54:00:00:00:08"}, {"hostname", "n8"}, {"rack", "r1"}});
  pr = plan_node_config(*inv, d.group, *d.profile, g, config::Target::ignition, {"http://s", "10.0.0.8"});
  ASSERT_TRUE(pr.plan);
  EXPECT_EQ(pr.plan->layer_files.size(), 3U);
}

TEST_F(NodeConfigTest, OtherTargetAndNoConfigAre404) {
  write("profiles/plain.yaml", "kernel: vmlinuz\n");
  auto inv = load();
  ASSERT_TRUE(inv);
  auto f = facts({{"mac", "52:54:00:00:00:07"}, {"rack", "r1"}});
  auto d = decide(*inv, f);
  auto pr = plan_node_config(*inv, d.group, *d.profile, f, config::Target::cloud_config, {});
  EXPECT_FALSE(pr.plan);
  EXPECT_EQ(pr.status, 404);
  EXPECT_NE(pr.error.find("serves its config as ignition"), std::string::npos);
  pr = plan_node_config(*inv, nullptr, *inv->profile("plain"), f, config::Target::ignition, {});
  EXPECT_EQ(pr.status, 404);
}

TEST_F(NodeConfigTest, UndefinedVariableNamesTheLayerLineAndColumn) {
  auto inv = load();
  ASSERT_TRUE(inv);
  auto f = facts({{"mac", "52:54:00:00:00:07"}, {"rack", "r1"}});  // no hostname
  auto d = decide(*inv, f);
  auto pr = plan_node_config(*inv, d.group, *d.profile, f, config::Target::ignition, {"http://s", "10.0.0.7"});
  ASSERT_TRUE(pr.plan);
  auto r = compile_node_config(*pr.plan);
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.output);
  const auto text = config::format_diagnostics(r.diagnostics);
  EXPECT_NE(text.find((dir_ / "configs/machines/52-54-00-00-00-07.bu").string() + ":4:34: error: template variable "
                                                                                  "'hostname'"),
            std::string::npos)
      << text;
}

TEST_F(NodeConfigTest, LoaderRefusesBadConfigFields) {
  write("profiles/bad.yaml",
        "kernel: vmlinuz\nconfig:\n  target: ignitoin\n  layers: [/etc/abs.bu, ../up.bu, missing.bu]\n"
        "  colour: blue\n");
  write("profiles/miss.yaml", "kernel: vmlinuz\nconfig: {target: ignition, layers: [cluster.bu, missing.bu]}\n");
  write("groups/nocfg.yaml", "profile: plain\nselector: {hostname: \"x-*\"}\nconfig: {layers: [cluster.bu]}\n");
  write("profiles/plain.yaml", "kernel: vmlinuz\n");
  auto r = load_inventory(dir_);
  EXPECT_FALSE(r.inventory);
  const auto text = all(r.diagnostics);
  const auto bad = (dir_ / "profiles/bad.yaml").string();
  EXPECT_NE(text.find(bad + ":3:11: error: unknown config target 'ignitoin'"), std::string::npos) << text;
  EXPECT_NE(text.find(bad + ":4:12: error: config layer path '/etc/abs.bu' must be relative"), std::string::npos)
      << text;
  EXPECT_NE(text.find(bad + ":4:25: error: config layer path '../up.bu' may not contain"), std::string::npos) << text;
  EXPECT_NE(text.find((dir_ / "profiles/miss.yaml").string() + ":2:49: error: config layer 'missing.bu' not found"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(bad + ":5:3: error: unknown key 'colour'"), std::string::npos) << text;
  EXPECT_NE(text.find("group 'nocfg' has config layers but its profile 'plain' has no config"), std::string::npos)
      << text;
}

// The config compiler, not the inventory, knows which Ignition specs exist:
// boot::load_inventory hands its answer to the loader.
TEST_F(NodeConfigTest, LoaderRefusesAnIgnitionVersionTheCompilerCannotEmit) {
  write("profiles/new.yaml", "kernel: vmlinuz\nconfig:\n  target: ignition\n  ignition_version: 3.9.0\n");
  write("profiles/old.yaml", "kernel: vmlinuz\nconfig:\n  target: ignition\n  ignition_version: 3.3.0\n");
  auto r = load_inventory(dir_);
  EXPECT_FALSE(r.inventory);
  const auto text = all(r.diagnostics);
  EXPECT_NE(text.find((dir_ / "profiles/new.yaml").string() +
                      ":4:21: error: ignition_version '3.9.0' is not a supported Ignition spec"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("old.yaml"), std::string::npos) << text;
}

TEST_F(NodeConfigTest, RenderedLayerPathCannotEscapeConfigs) {
  write("profiles/fc.yaml",
        "kernel: vmlinuz\nconfig:\n  target: ignition\n  layers: [cluster.bu, \"roles/{{labels.role}}.bu\"]\n");
  auto inv = load();
  ASSERT_TRUE(inv);
  auto f = facts({{"mac", "52:54:00:00:00:07"}, {"rack", "r1"}, {"role", ".."}});
  auto d = decide(*inv, f);
  auto pr = plan_node_config(*inv, d.group, *d.profile, f, config::Target::ignition, {});
  // "roles/...bu" is a file name, not a parent: fine but missing -> compile error, never outside configs/.
  if (pr.plan) {
    for (const auto& l : pr.plan->layer_files) EXPECT_EQ(l.rfind((dir_ / "configs").string(), 0), 0U) << l;
  }
  EXPECT_NE(config_layer_path_error("roles/../../etc/passwd"), "");
  EXPECT_NE(config_layer_path_error("/etc/passwd"), "");
  EXPECT_NE(config_layer_path_error("a//b"), "");
  EXPECT_EQ(config_layer_path_error("roles/..x.bu"), "");
}

TEST_F(NodeConfigTest, ConfigUrlCarriesFactsAsPathSegments) {
  auto f = facts({{"mac", "52:54:00:00:00:07"}, {"manufacturer", "QEMU Inc"}, {"rack", "r1"}});
  EXPECT_EQ(node_config_url("http://10.0.0.1", "ignition", f),
            "http://10.0.0.1/ignition/mac=52:54:00:00:00:07/manufacturer=QEMU%20Inc/rack=r1");
}

TEST_F(NodeConfigTest, FingerprintIncludesConfigFiles) {
  const auto before = inventory_fingerprint(dir_);
  write("configs/roles/worker.bu", "storage: {}\n# edited, longer\n");
  EXPECT_NE(inventory_fingerprint(dir_), before);
}

TEST_F(NodeConfigTest, CacheCompilesOncePerGenerationAndKeepsFailures) {
  auto inv = load();
  ASSERT_TRUE(inv);
  auto f = facts({{"mac", "52:54:00:00:00:07"}, {"hostname", "n7"}, {"rack", "r1"}});
  auto d = decide(*inv, f);
  auto pr = plan_node_config(*inv, d.group, *d.profile, f, config::Target::ignition, {"http://s", "10.0.0.7"});
  ASSERT_TRUE(pr.plan);
  NodeConfigCache cache(2);
  cache.set_generation(1);
  auto a = cache.get_or_compile(*pr.plan);
  EXPECT_FALSE(a.hit);
  ASSERT_TRUE(a.result->ok());
  // The file changes, but the same generation still serves what was compiled.
  write("configs/cluster.bu", "variant: fcos\nversion: 1.4.0\nstorage: {files: [{path: relative}]}\n");
  auto b = cache.get_or_compile(*pr.plan);
  EXPECT_TRUE(b.hit);
  EXPECT_EQ(b.result->etag, a.result->etag);
  cache.set_generation(2);
  auto c = cache.get_or_compile(*pr.plan);
  EXPECT_FALSE(c.hit);
  EXPECT_FALSE(c.result->ok());
  EXPECT_TRUE(cache.get_or_compile(*pr.plan).hit);  // the failure is cached too
  // Bounded: a third distinct key evicts the oldest.
  auto p2 = *pr.plan;
  p2.cache_key += "x";
  auto p3 = *pr.plan;
  p3.cache_key += "y";
  cache.get_or_compile(p2);
  cache.get_or_compile(p3);
  EXPECT_EQ(cache.size(), 2U);
  EXPECT_FALSE(cache.get_or_compile(*pr.plan).hit);
}

TEST(NodeConfig, RedactBootTokenHidesEveryTokenValueAndNothingElse) {
  EXPECT_EQ(redact_boot_token("/ignition/mac=52:54:00:00:00:01/token=0123abcd"),
            "/ignition/mac=52:54:00:00:00:01/token=-");
  EXPECT_EQ(redact_boot_token("/ignition?mac=1&token=abc&x=1"), "/ignition?mac=1&token=-&x=1");
  EXPECT_EQ(redact_boot_token("/ignition?token=abc/token=def"), "/ignition?token=-/token=-");
  // Only a whole key named token: a label that ends in "token" is left alone.
  EXPECT_EQ(redact_boot_token("/ignition/mytoken=visible"), "/ignition/mytoken=visible");
  EXPECT_EQ(redact_boot_token(std::string(300, 'a')).size(), 200U);
}
