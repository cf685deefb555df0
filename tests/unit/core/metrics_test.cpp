// The exposition format that Prometheus parses (0.0.4): one HELP and TYPE per
// metric, `_total` counters, cumulative `le` buckets ending at +Inf, escaping;
// and histograms that put a value on a bound into that bound's bucket.
#include "core/metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/counter_metrics.hpp"

namespace ramfleet::metrics {
namespace {

TEST(Histogram, BoundsAreInclusiveAndTheLastBucketIsInf) {
  Histogram h({1, 5, 10});
  for (double v : {0.5, 1.0, 1.5, 5.0, 10.0, 11.0, 1e9}) h.observe(v);
  EXPECT_EQ(h.counts(), (std::vector<std::uint64_t>{2, 2, 1, 2}));
  EXPECT_EQ(h.count(), 7u);
  EXPECT_DOUBLE_EQ(h.sum(), 0.5 + 1 + 1.5 + 5 + 10 + 11 + 1e9);
}

TEST(Histogram, IgnoresNaNAndSortsItsBounds) {
  Histogram h({10, 1, 5, 5, std::numeric_limits<double>::infinity()});
  EXPECT_EQ(h.bounds(), (std::vector<double>{1, 5, 10}));
  h.observe(std::nan(""));
  EXPECT_EQ(h.count(), 0u);
  h.observe(-1);  // below every bound: the first bucket
  EXPECT_EQ(h.counts()[0], 1u);
}

TEST(Exposition, RendersAHistogramCumulatively) {
  Histogram h({0.1, 1});
  h.observe(0.05);
  h.observe(0.5);
  h.observe(2);
  Exposition e;
  e.histogram("x_seconds", "Time.", {{"route", "ipxe"}}, h);
  EXPECT_EQ(e.text(),
            "# HELP x_seconds Time.\n"
            "# TYPE x_seconds histogram\n"
            "x_seconds_bucket{route=\"ipxe\",le=\"0.1\"} 1\n"
            "x_seconds_bucket{route=\"ipxe\",le=\"1\"} 2\n"
            "x_seconds_bucket{route=\"ipxe\",le=\"+Inf\"} 3\n"
            "x_seconds_sum{route=\"ipxe\"} 2.55\n"
            "x_seconds_count{route=\"ipxe\"} 3\n");
}

TEST(Exposition, GroupsSamplesOfOneMetricAndSumsDuplicates) {
  Exposition e;
  e.counter("b", "B.", {{"reason", "y"}}, 2);
  e.gauge("a", "A.", {}, 1.5);
  e.counter("b_total", "B.", {{"reason", "x"}}, 1);
  e.counter("b", "B.", {{"reason", "y"}}, 3);
  EXPECT_EQ(e.text(),
            "# HELP a A.\n# TYPE a gauge\na 1.5\n"
            "# HELP b_total B.\n# TYPE b_total counter\n"
            "b_total{reason=\"x\"} 1\nb_total{reason=\"y\"} 5\n");
}

TEST(Exposition, EscapesHelpAndLabelValues) {
  Exposition e;
  e.gauge("g", "a \\ b\nc \"q\"", {{"profile", "we\"ird\\na\nme"}}, 1);
  EXPECT_EQ(e.text(),
            "# HELP g a \\\\ b\\nc \"q\"\n# TYPE g gauge\n"
            "g{profile=\"we\\\"ird\\\\na\\nme\"} 1\n");
}

TEST(Exposition, RefusesWhatWouldNotParse) {
  Exposition e;
  e.gauge("bad-name", "x", {}, 1);
  e.gauge("9lives", "x", {}, 1);
  e.gauge("g", "x", {{"le", "1"}}, 1);
  e.gauge("g", "x", {{"a", "1"}, {"a", "2"}}, 1);
  e.gauge("g", "x", {{"__reserved", "1"}}, 1);
  e.gauge("c_total", "x", {}, 1);
  e.counter("c", "x", {}, 1);  // c_total is already a gauge
  EXPECT_EQ(e.rejected(), 6u);
  EXPECT_EQ(e.text(), "# HELP c_total x\n# TYPE c_total gauge\nc_total 1\n");
}

TEST(Exposition, FormatsValues) {
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(12345678901234), "12345678901234");
  EXPECT_EQ(format_value(0.25), "0.25");
  EXPECT_EQ(format_value(1e-05), "1e-05");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_value(std::nan("")), "NaN");
}

TEST(HistogramFamily, CapsItsSeries) {
  HistogramFamily f("boot_seconds", "x", {"profile"}, {1}, 3);
  f.with({"a"}).observe(1);
  f.with({"b"}).observe(1);
  f.with({"c"}).observe(1);  // the third slot is the overflow series
  f.with({"d"}).observe(1);
  f.with({"a"}).observe(1);
  ASSERT_EQ(f.children().size(), 3u);
  EXPECT_EQ(f.children().at({"a"}).count(), 2u);
  EXPECT_EQ(f.children().at({"_other"}).count(), 2u);
}

TEST(Registry, RendersCollectorsAndHistograms) {
  Registry r;
  auto& h = r.histogram("req_seconds", "Requests.", {1}, {{"route", "api"}});
  auto& fam = r.histogram_family("phase_seconds", "Phases.", {"profile", "phase"}, {1});
  r.add_collector([](Exposition& e) { e.gauge("machines", "Machines.", {}, 3); });
  h.observe(0.5);
  fam.with({"worker", "config_to_ready"}).observe(2);
  const auto text = r.render();
  EXPECT_NE(text.find("machines 3\n"), std::string::npos);
  EXPECT_NE(text.find("req_seconds_bucket{route=\"api\",le=\"1\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("phase_seconds_bucket{profile=\"worker\",phase=\"config_to_ready\",le=\"+Inf\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("phase_seconds_count{profile=\"worker\",phase=\"config_to_ready\"} 1\n"), std::string::npos);
}

TEST(CounterMetrics, FamiliesBecomeLabelsAndTheRestKeepsItsName) {
  auto m = counter_metric("dhcp.drop.bad_cookie");
  EXPECT_EQ(m.name, "ramfleet_dhcp_dropped");
  EXPECT_EQ(m.labels, (Labels{{"reason", "bad_cookie"}}));
  m = counter_metric("dhcp.drop.rate_limited");  // an exact name before its family
  EXPECT_EQ(m.name, "ramfleet_dhcp_rate_limited");
  EXPECT_TRUE(m.labels.empty());
  m = counter_metric("dhcp.drop.rate_limited.mac");  // the longest prefix
  EXPECT_EQ(m.name, "ramfleet_dhcp_rate_limited_by");
  EXPECT_EQ(m.labels, (Labels{{"limit", "mac"}}));
  m = counter_metric("http.error.not_found");
  EXPECT_EQ(m.name, "ramfleet_http_errors");
  EXPECT_EQ(m.labels, (Labels{{"reason", "not_found"}}));
  m = counter_metric("http.ipxe.cache_hit");
  EXPECT_EQ(m.name, "ramfleet_http_ipxe_cache_hit");
  EXPECT_TRUE(m.labels.empty());
  m = counter_metric("tftp.drop.malformed.bad_mode");
  EXPECT_EQ(m.name, "ramfleet_tftp_malformed_by_reason");
  EXPECT_EQ(counter_metric("http.config.token_refused.token_reused").name, "ramfleet_http_config_token_refusals");
}

TEST(CounterMetrics, WritesEveryCounter) {
  Counters c;
  c.inc("dhcp.rx.discover", 3);
  c.inc("dhcp.rx.request");
  c.inc("dhcp.rx.packets", 5);
  c.inc("store.flush_failed");
  Exposition e;
  write_counters(e, c);
  const auto text = e.text();
  EXPECT_NE(text.find("ramfleet_dhcp_received_total{type=\"discover\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("ramfleet_dhcp_received_total{type=\"request\"} 1\n"), std::string::npos);
  EXPECT_NE(
      text.find("# TYPE ramfleet_dhcp_datagrams_received_total counter\nramfleet_dhcp_datagrams_received_total 5\n"),
      std::string::npos);
  EXPECT_NE(text.find("ramfleet_store_flush_failed_total 1\n"), std::string::npos);
  EXPECT_EQ(e.rejected(), 0u);
}

}  // namespace
}  // namespace ramfleet::metrics
