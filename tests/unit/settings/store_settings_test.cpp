// The machine store's bounds, read from ramfleet.yaml's store: section.
#include "settings/store_settings.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "settings/serve_settings.hpp"

using namespace ramfleet;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {
struct StoreFile : ::testing::Test {
  void SetUp() override {
    dir = fs::temp_directory_path() / ("ramfleet-store-settings-" + std::to_string(::getpid()) + "-" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }
  settings::ServeSettings apply(const std::string& text, Diagnostics& d) {
    std::ofstream(dir / "ramfleet.yaml") << text;
    auto s = settings::default_serve_settings();
    settings::apply_serve_file(dir, s, d);
    return s;
  }
  fs::path dir;
};
}  // namespace

TEST_F(StoreFile, ReadsEveryLimit) {
  Diagnostics d;
  auto s = apply(R"(store:
  max_pending_boots: 500
  boot_history: 20
  events_per_machine: 50
  event_max_age: 7d
  max_unknown_machines: 300
  unknown_max_age: 12h
  max_db_bytes: 256MiB
  maintenance_interval: 30
  log_interval: 1m
  busy_timeout: 500ms
)",
                 d);
  ASSERT_TRUE(d.empty()) << d[0].str();
  EXPECT_EQ(s.store.max_pending_boots, 500U);
  EXPECT_EQ(s.store.boot_history, 20U);
  EXPECT_EQ(s.store.events_per_machine, 50U);
  EXPECT_EQ(s.store.event_max_age, 7 * 24h);
  EXPECT_EQ(s.store.max_unknown_machines, 300U);
  EXPECT_EQ(s.store.unknown_max_age, 12h);
  EXPECT_EQ(s.store.max_db_bytes, 256 << 20);
  EXPECT_EQ(s.store.maintenance_interval, 30s);
  EXPECT_EQ(s.store.log_interval, 1min);
  EXPECT_EQ(s.store.busy_timeout, 500ms);
}

TEST_F(StoreFile, DefaultsStayWithoutASection) {
  Diagnostics d;
  auto s = apply("interface: eth0\n", d);
  ASSERT_TRUE(d.empty());
  EXPECT_EQ(s.store.boot_history, boot::MachineStoreLimits{}.boot_history);
  EXPECT_EQ(s.store.max_db_bytes, boot::MachineStoreLimits{}.max_db_bytes);
}

TEST_F(StoreFile, MistakesNameLineAndColumnAndChangeNothing) {
  Diagnostics d;
  auto s = apply("store:\n  boot_history: 0\n  max_db_bytes: 4KiB\n  event_max_age: forever\n  history: 3\n", d);
  ASSERT_EQ(d.size(), 4U);
  const auto file = (dir / "ramfleet.yaml").string();
  EXPECT_EQ(d[0].str(), file +
                            ":5:3: error: unknown key 'history' in store (expected one of: max_pending_boots, "
                            "boot_history, events_per_machine, event_max_age, max_unknown_machines, "
                            "unknown_max_age, max_db_bytes, maintenance_interval, log_interval, busy_timeout)");
  EXPECT_EQ(d[1].str(), file + ":2:17: error: store.boot_history must be between 1 and 100000000");
  EXPECT_EQ(d[2].line, 4U);
  EXPECT_EQ(d[3].str(), file + ":3:17: error: store.max_db_bytes must be between 1048576 and 1125899906842624 bytes");
  EXPECT_EQ(s.store.boot_history, boot::MachineStoreLimits{}.boot_history);
}
