// deliver_config: one typed outcome per request, the bytes with their ETag or
// a refusal kind; the transport never has to look inside.
#include "boot/config_delivery.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "boot/load_inventory.hpp"

using namespace ramfleet;
using namespace ramfleet::boot;
namespace fs = std::filesystem;

namespace {
class ConfigDeliveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("rf-delivery-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    write("configs/base.bu",
          "variant: fcos\nversion: 1.4.0\nstorage:\n  files:\n    - path: /etc/motd\n"
          "      contents: {inline: \"hello {{mac}}\\n\"}\n");
    write("configs/broken.bu",
          "variant: fcos\nversion: 1.4.0\nstorage: {files: [{path: /x, contents: {inline: "
          "\"{{nope}}\"}}]}\n");
    write("profiles/ign.yaml", "kernel: vmlinuz\nconfig: {target: ignition, layers: [base.bu]}\n");
    write("profiles/bad.yaml", "kernel: vmlinuz\nconfig: {target: ignition, layers: [broken.bu]}\n");
    write("groups/good.yaml", "profile: ign\nselector: {mac: \"52:54:00:00:00:01\"}\n");
    write("groups/bad.yaml", "profile: bad\nselector: {mac: \"52:54:00:00:00:02\"}\n");
    write("inventory.yaml", "default: exit\n");
    load();
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& rel, const std::string& text) {
    fs::create_directories((dir_ / rel).parent_path());
    std::ofstream(dir_ / rel) << text;
  }
  void load() {
    auto r = boot::load_inventory(dir_);
    ASSERT_TRUE(r.inventory);
    state_.inventory = r.inventory;
    ++state_.inventory_generation;
    settings_.config_dir = dir_;
    settings_.state_dir = dir_ / "state";
  }
  ConfigOutcome ask(std::string target, std::vector<std::pair<std::string, std::string>> params,
                    std::function<bool(const std::string&)> client_has = {}) {
    ConfigRequest req;
    req.target = std::move(target);
    req.params = std::move(params);
    req.base_url = "http://192.0.2.1";
    req.peer = {"192.0.2.10", "192.0.2.10:4711"};
    req.client_has = std::move(client_has);
    return deliver_config(state_, settings_, req, {std::chrono::steady_clock::now(), 0});
  }

  fs::path dir_;
  BootState state_;
  BootSettings settings_;
};

TEST_F(ConfigDeliveryTest, DeliversBytesWithTheirEtag) {
  auto out = ask("ignition", {{"mac", "52:54:00:00:00:01"}});
  ASSERT_TRUE(out.ok()) << out.refusal.message;
  EXPECT_NE(out.delivered->bytes().find("/etc/motd"), std::string::npos);
  EXPECT_EQ(out.delivered->etag.front(), '"');
  EXPECT_FALSE(out.delivered->content_type.empty());
  EXPECT_FALSE(out.delivered->not_modified);
  const auto etag = out.delivered->etag;
  auto again = ask("ignition", {{"mac", "52:54:00:00:00:01"}}, [&](const std::string& e) { return e == etag; });
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again.delivered->not_modified);
  EXPECT_EQ(state_.counters.get("http.config.cache_hit"), 1u);
}

TEST_F(ConfigDeliveryTest, EachRefusalHasItsKind) {
  EXPECT_EQ(ask("nope", {{"mac", "52:54:00:00:00:01"}}).refusal.kind, RefusalKind::not_found);
  EXPECT_EQ(ask("ignition", {{"mac", "zz"}}).refusal.kind, RefusalKind::bad_request);
  EXPECT_EQ(ask("ignition", {{"rack", "r1"}}).refusal.kind, RefusalKind::no_identity);
  EXPECT_EQ(ask("ignition", {{"mac", "52:54:00:00:00:99"}}).refusal.kind, RefusalKind::unmatched);
  EXPECT_EQ(ask("cloud-config", {{"mac", "52:54:00:00:00:01"}}).refusal.kind, RefusalKind::no_config);
  auto broken = ask("ignition", {{"mac", "52:54:00:00:00:02"}});
  EXPECT_EQ(broken.refusal.kind, RefusalKind::compile_failed);
  EXPECT_NE(broken.refusal.message.find("broken.bu"), std::string::npos) << broken.refusal.message;
  std::vector<std::pair<std::string, std::string>> many{{"mac", "52:54:00:00:00:01"}};
  for (int i = 0; i < 40; ++i) many.emplace_back("l" + std::to_string(i), "v");
  EXPECT_EQ(ask("ignition", many).refusal.kind, RefusalKind::bad_request);
}

TEST_F(ConfigDeliveryTest, BrokenClusterYamlRefusesEveryMachineItsClusterFiles) {
  write("cluster.yaml", "name: [unterminated\n");
  load();
  auto out = ask("ignition", {{"mac", "52:54:00:00:00:01"}});
  EXPECT_EQ(out.refusal.kind, RefusalKind::cluster_error);
  EXPECT_NE(out.refusal.message.find("cluster.yaml"), std::string::npos) << out.refusal.message;
}

}  // namespace
