// `ramfleet status` output pinned: fixed API answers in, exact text out.
#include "status/machine_table.hpp"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

using namespace ramfleet::status;
using json = nlohmann::json;
using std::chrono::milliseconds;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t kNow = 1'800'000'000'000;

// What GET /api/v1/machines answers (store/sqlite_machine_store.cpp machine_row).
json machines() {
  return json::parse(R"([
    {"id": "52:54:00:00:00:01", "facts": {"mac": "52:54:00:00:00:01", "hostname": "node1",
      "uuid": "4c4c4544-0001", "arch": "x86_64", "labels": {"rack": "r1", "ip": "10.0.0.99"}},
     "group": "rack1", "profile": "flatcar", "decision": "group", "discovered": false, "reason": "",
     "first_seen_ms": 1799999995000, "last_seen_ms": 1799999999000, "boots": 2, "last_phase": "ready"},
    {"id": "52:54:00:00:00:02", "facts": {"mac": "52:54:00:00:00:02"},
     "group": null, "profile": null, "decision": "exit", "discovered": true, "reason": "",
     "first_seen_ms": 1799999820000, "last_seen_ms": 1799999820000, "boots": 1, "last_phase": null},
    {"id": "uuid-77", "facts": {"uuid": "77", "hostname": "worker-long-name"},
     "group": null, "profile": "discovery", "decision": "default_profile", "discovered": true, "reason": "",
     "first_seen_ms": 1799989200000, "last_seen_ms": 1799999940000, "boots": 5, "last_phase": "booted"},
    "not an object"
  ])");
}

json leases() {
  return json::parse(R"([
    {"address": "10.0.0.20", "mac": "52:54:00:00:00:01", "expires_at": 100},
    {"address": "10.0.0.21", "mac": "52:54:00:00:00:01", "expires_at": 200},
    {"address": "10.0.0.30", "mac": "52:54:00:00:00:09", "expires_at": 300}
  ])");
}

}  // namespace

TEST(HumanAge, LikeKubectl) {
  EXPECT_EQ(human_age(0ms), "0s");
  EXPECT_EQ(human_age(-500ms), "0s");
  EXPECT_EQ(human_age(-1900ms), "0s");  // truncated to -1 s: within kubectl's tolerance
  EXPECT_EQ(human_age(-5s), "<invalid>");
  EXPECT_EQ(human_age(5s), "5s");
  EXPECT_EQ(human_age(5999ms), "5s");
  EXPECT_EQ(human_age(119s), "119s");
  EXPECT_EQ(human_age(3min), "3m");
  EXPECT_EQ(human_age(3min + 20s), "3m20s");
  EXPECT_EQ(human_age(45min), "45m");
  EXPECT_EQ(human_age(179min), "179m");
  EXPECT_EQ(human_age(2h), "120m");  // kubectl counts minutes up to three hours
  EXPECT_EQ(human_age(3h), "3h");
  EXPECT_EQ(human_age(7h + 30min), "7h30m");
  EXPECT_EQ(human_age(30h), "30h");
  EXPECT_EQ(human_age(std::chrono::hours(24 * 4)), "4d");
  EXPECT_EQ(human_age(std::chrono::hours(24 * 2 + 3)), "2d3h");
  EXPECT_EQ(human_age(std::chrono::hours(24 * 40)), "40d");
  EXPECT_EQ(human_age(std::chrono::hours(24 * (365 * 2 + 100))), "2y100d");
  EXPECT_EQ(human_age(std::chrono::hours(24 * 365 * 9)), "9y");
}

TEST(MachineRows, ReadTheApiAndTheLeases) {
  auto rows = machine_rows(machines(), leases());
  ASSERT_EQ(rows.size(), 3U);
  EXPECT_EQ(rows[0].name, "node1");
  EXPECT_EQ(rows[0].ip, "10.0.0.21");  // the newest lease wins over the ip fact
  EXPECT_EQ(rows[0].phase, "ready");
  EXPECT_EQ(rows[1].name, "52:54:00:00:00:02");  // no hostname: the id
  EXPECT_EQ(rows[1].phase, "unmatched");
  EXPECT_EQ(rows[2].mac, "");
  EXPECT_EQ(rows[2].phase, "booted");
  auto no_leases = machine_rows(machines(), json::array());
  EXPECT_EQ(no_leases[0].ip, "10.0.0.99");  // then the ip it reported
  EXPECT_TRUE(machine_rows(json::object(), leases()).empty());
}

TEST(Render, TableLikeKubectlGetNodes) {
  const auto out = render(machine_rows(machines(), leases()), Output::table, kNow);
  EXPECT_EQ(out,
            "NAME                MAC                 IP          GROUP    PROFILE     PHASE       AGE\n"
            "node1               52:54:00:00:00:01   10.0.0.21   rack1    flatcar     ready       5s\n"
            "52:54:00:00:00:02   52:54:00:00:00:02   <none>      <none>   <none>      unmatched   3m\n"
            "worker-long-name    <none>              <none>      <none>   discovery   booted      3h\n");
}

TEST(Render, WideAddsUuidArchLastBootAndLabels) {
  const auto out = render(machine_rows(machines(), leases()), Output::wide, kNow);
  EXPECT_EQ(
      out,
      "NAME                MAC                 IP          GROUP    PROFILE     PHASE       AGE   UUID            "
      "ARCH     LAST-BOOT   LABELS\n"
      "node1               52:54:00:00:00:01   10.0.0.21   rack1    flatcar     ready       5s    4c4c4544-0001   "
      "x86_64   1s          ip=10.0.0.99,rack=r1\n"
      "52:54:00:00:00:02   52:54:00:00:00:02   <none>      <none>   <none>      unmatched   3m    <none>          "
      "<none>   3m          <none>\n"
      "worker-long-name    <none>              <none>      <none>   discovery   booted      3h    77              "
      "<none>   60s         <none>\n");
}

TEST(Render, NoMachinesSaysSo) {
  EXPECT_EQ(render({}, Output::table, kNow), "No machines have booted from this server yet.\n");
  EXPECT_EQ(render({}, Output::json, kNow), "{\n  \"machines\": []\n}\n");
}

TEST(Render, JsonHasEveryFieldTyped) {
  const auto doc = json::parse(render(machine_rows(machines(), leases()), Output::json, kNow));
  ASSERT_EQ(doc["machines"].size(), 3U);
  const auto& m = doc["machines"][0];
  EXPECT_EQ(m["name"], "node1");
  EXPECT_EQ(m["ip"], "10.0.0.21");
  EXPECT_EQ(m["age"], "5s");
  EXPECT_EQ(m["boots"], 2);
  EXPECT_EQ(m["labels"]["rack"], "r1");
  EXPECT_TRUE(doc["machines"][1]["group"].is_null());
}

TEST(Render, YamlParsesToTheSameRows) {
  const auto text = render(machine_rows(machines(), leases()), Output::yaml, kNow);
  const auto doc = YAML::Load(text);
  ASSERT_EQ(doc["machines"].size(), 3U);
  EXPECT_EQ(doc["machines"][0]["name"].as<std::string>(), "node1");
  EXPECT_EQ(doc["machines"][0]["boots"].as<int>(), 2);
  EXPECT_EQ(doc["machines"][0]["labels"]["rack"].as<std::string>(), "r1");
  EXPECT_TRUE(doc["machines"][1]["group"].IsNull());
  EXPECT_EQ(doc["machines"][2]["age"].as<std::string>(), "3h");
}

TEST(Output, Names) {
  EXPECT_EQ(output_from_string("wide"), Output::wide);
  EXPECT_EQ(output_from_string("json"), Output::json);
  EXPECT_EQ(output_from_string("yaml"), Output::yaml);
  EXPECT_EQ(output_from_string("xml"), std::nullopt);
}

// `ramfleet status --not-ready`: the report of GET /api/v1/boots/stalled.
TEST(NotReady, TableNamesEachMachineItsLastStepAndWhy) {
  const std::int64_t now = 1'700'000'100'000;
  const auto report = nlohmann::json::parse(R"({"count": 2, "machines": [
    {"id": "52:54:00:00:00:01", "address": "10.0.0.7", "last_step": "script", "profile": "small",
     "reason": "got its iPXE script (profile small); never asked for its kernel",
     "last_step_at_ms": 1700000040000, "boot_started_ms": 1700000000000},
    {"id": "52:54:00:00:00:02", "address": null, "last_step": "config_refused", "profile": null,
     "reason": "its config was refused: token_reused: used", "last_step_at_ms": 1700000095000,
     "boot_started_ms": 1700000001000}]})");
  EXPECT_EQ(render_not_ready(report, Output::table, now),
            "MACHINE             ADDRESS    LAST-STEP        FOR   REASON\n"
            "52:54:00:00:00:01   10.0.0.7   script           60s   got its iPXE script (profile small); never asked "
            "for its kernel\n"
            "52:54:00:00:00:02   <none>     config_refused   5s    its config was refused: token_reused: used\n");
  EXPECT_NE(render_not_ready(report, Output::wide, now).find("BOOT-AGE"), std::string::npos);
  const auto j = nlohmann::json::parse(render_not_ready(report, Output::json, now));
  EXPECT_EQ(j["count"], 2);
  EXPECT_EQ(j["machines"][1]["last_step"], "config_refused");
  EXPECT_EQ(render_not_ready(nlohmann::json::parse(R"({"count":0,"machines":[]})"), Output::table, now),
            "Every machine whose boot was seen reached ready.\n");
}

TEST(NotReady, ATruncatedReportSaysSo) {
  const auto report = nlohmann::json::parse(
      R"({"count": 5, "machines": [{"id": "m", "last_step": "dhcp", "reason": "r", "last_step_at_ms": 1}]})");
  EXPECT_NE(render_not_ready(report, Output::table, 1000).find("(1 of 5 shown)"), std::string::npos);
}
