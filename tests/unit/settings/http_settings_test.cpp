// The HTTP settings, one struct read from ramfleet.yaml's http: section, and
// the older http.yaml still applied with a warning naming each key's new place.
#include "settings/http_settings.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "settings/serve_settings.hpp"

using namespace ramfleet;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {
class HttpFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ramfleet-http-settings-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }
  settings::ServeSettings apply(Diagnostics& d) {
    auto s = settings::default_serve_settings();
    settings::apply_serve_file(dir_, s, d);
    return s;
  }
  fs::path dir_;
};
}  // namespace

TEST_F(HttpFile, DefaultsWithoutAnyFile) {
  Diagnostics d;
  auto s = apply(d);
  EXPECT_TRUE(d.empty());
  EXPECT_TRUE(s.http.enabled);
  EXPECT_EQ(s.http.port, 80);
  EXPECT_EQ(s.http.limits.request_timeout, 10s);
  EXPECT_EQ(s.http.boot_token_ttl, 5min);
  EXPECT_EQ(s.http.boot_token_rate_per_min, 12);
}

TEST_F(HttpFile, RamfleetYamlSectionTakesDurationsAndSizes) {
  write("ramfleet.yaml", R"(http:
  port: 8080
  max_connections: 200
  max_connections_per_ip: 4
  max_header_bytes: 16KiB
  max_body_bytes: 1MiB
  request_timeout: 2s
  idle_timeout: 45
  min_send_rate: 65536
  send_window: 1m30s
  reload_interval: 200ms
  boot_token_ttl: 10m
  boot_token_rate_per_min: 30
  boot_token_burst: 5
)");
  Diagnostics d;
  auto s = apply(d);
  ASSERT_TRUE(d.empty()) << d[0].str();
  EXPECT_EQ(s.http.port, 8080);
  EXPECT_EQ(s.http.limits.max_connections, 200U);
  EXPECT_EQ(s.http.limits.max_connections_per_ip, 4U);
  EXPECT_EQ(s.http.limits.max_header_bytes, 16384U);
  EXPECT_EQ(s.http.limits.max_body_bytes, 1048576U);
  EXPECT_EQ(s.http.limits.request_timeout, 2s);
  EXPECT_EQ(s.http.limits.idle_timeout, 45s);  // a bare number counts seconds here
  EXPECT_EQ(s.http.limits.min_send_rate, 65536U);
  EXPECT_EQ(s.http.limits.send_window, 90s);
  EXPECT_EQ(s.http.reload_interval, 200ms);
  EXPECT_EQ(s.http.boot_token_ttl, 10min);
  EXPECT_EQ(s.http.boot_token_rate_per_min, 30);
  EXPECT_EQ(s.http.boot_token_burst, 5);
}

TEST_F(HttpFile, OldHttpYamlStillAppliesWithAWarningPerKey) {
  write("http.yaml", "request_timeout_ms: 700\nsend_timeout_ms: 3000\nmax_connections: 4\n");
  Diagnostics d;
  auto s = apply(d);
  EXPECT_EQ(s.http.limits.request_timeout, 700ms);  // *_ms keys: bare numbers stay milliseconds
  EXPECT_EQ(s.http.limits.send_window, 3s);
  EXPECT_EQ(s.http.limits.max_connections, 4U);
  ASSERT_EQ(d.size(), 3U);
  const auto file = (dir_ / "http.yaml").string();
  EXPECT_EQ(d[0].str(), file +
                            ":1:1: warning: http.yaml is replaced by ramfleet.yaml's http: section: move "
                            "'request_timeout_ms: 700' there as 'request_timeout: 700ms'");
  EXPECT_EQ(d[1].str(), file +
                            ":2:1: warning: http.yaml is replaced by ramfleet.yaml's http: section: move "
                            "'send_timeout_ms: 3000' there as 'send_window: 3s'");
  EXPECT_FALSE(d[2].is_error());
}

TEST_F(HttpFile, RamfleetYamlWinsOverHttpYaml) {
  write("http.yaml", "max_connections: 4\nidle_timeout_ms: 1000\n");
  write("ramfleet.yaml", "http:\n  max_connections: 9\n");
  Diagnostics d;
  auto s = apply(d);
  EXPECT_FALSE(has_errors(d));
  EXPECT_EQ(s.http.limits.max_connections, 9U);
  EXPECT_EQ(s.http.limits.idle_timeout, 1s);
}

TEST_F(HttpFile, MistakesNameFileLineColumnAndChangeNothing) {
  write("http.yaml", "max_connections: 0\nbogus_ms: 5\n");
  write("ramfleet.yaml", "http:\n  request_timeout: soon\n  max_body_bytes: 12 parsecs\n");
  Diagnostics d;
  auto s = apply(d);
  const auto legacy = (dir_ / "http.yaml").string();
  const auto main = (dir_ / "ramfleet.yaml").string();
  std::string all;
  for (const auto& x : d) all += x.str() + "\n";
  EXPECT_NE(all.find(legacy + ":1:18: error: max_connections must be between 1 and 100000000"), std::string::npos)
      << all;
  EXPECT_NE(all.find(legacy + ":2:1: error: unknown key 'bogus_ms' in http.yaml"), std::string::npos) << all;
  EXPECT_NE(all.find(main + ":2:20: error: http.request_timeout must be a positive duration like 500ms, 10s"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find(main + ":3:19: error: http.max_body_bytes must be a size in bytes"), std::string::npos) << all;
  EXPECT_EQ(s.http.limits.max_connections, 1024U) << "a file with errors must not be half-applied";
  EXPECT_EQ(s.http.limits.request_timeout, 10s);
}
