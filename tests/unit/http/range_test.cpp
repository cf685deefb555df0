#include "http/range.hpp"

#include <gtest/gtest.h>

#include "http/asset_response.hpp"
#include "http/http_date.hpp"

using namespace ramfleet::http;
using K = RangeRequest::Kind;

TEST(Range, SingleSuffixOpenEnded) {
  auto r = parse_range("bytes=0-9", 100);
  ASSERT_EQ(r.kind, K::satisfiable);
  EXPECT_EQ(r.ranges, (std::vector<ByteRange>{{0, 9}}));
  EXPECT_EQ(parse_range("bytes=-10", 100).ranges, (std::vector<ByteRange>{{90, 99}}));
  EXPECT_EQ(parse_range("bytes=-1000", 100).ranges, (std::vector<ByteRange>{{0, 99}}));
  EXPECT_EQ(parse_range("bytes=95-", 100).ranges, (std::vector<ByteRange>{{95, 99}}));
  EXPECT_EQ(parse_range("bytes=95-500", 100).ranges, (std::vector<ByteRange>{{95, 99}}));
  EXPECT_EQ(parse_range("Bytes = 1-2 , 4-5", 100).ranges, (std::vector<ByteRange>{{1, 2}, {4, 5}}));
}

TEST(Range, UnsatisfiableAndInvalid) {
  EXPECT_EQ(parse_range("bytes=100-", 100).kind, K::unsatisfiable);
  EXPECT_EQ(parse_range("bytes=-0", 100).kind, K::unsatisfiable);
  EXPECT_EQ(parse_range("bytes=0-0", 0).kind, K::unsatisfiable);
  EXPECT_EQ(parse_range("bytes=200-300, 400-", 100).kind, K::unsatisfiable);
  // Syntax errors and other units are ignored: the whole file is sent (RFC 9110 14.2).
  EXPECT_EQ(parse_range("bytes=abc", 100).kind, K::none);
  EXPECT_EQ(parse_range("bytes=5-3", 100).kind, K::none);
  EXPECT_EQ(parse_range("items=0-1", 100).kind, K::none);
  EXPECT_EQ(parse_range("bytes=", 100).kind, K::none);
  EXPECT_EQ(parse_range("bytes=99999999999999999999-", 100).kind, K::none);
  std::string many = "bytes=";
  for (int i = 0; i < 40; ++i) many += std::to_string(i) + "-" + std::to_string(i) + ",";
  EXPECT_EQ(parse_range(many, 100).kind, K::none);
}

TEST(HttpDate, RoundTrip) {
  EXPECT_EQ(format_http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_FALSE(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"));
  EXPECT_FALSE(parse_http_date("garbage"));
}

namespace {
FileInfo file() { return {1000, 784111777, 5, "application/octet-stream"}; }
std::string header(const AssetPlan& p, const std::string& name) {
  for (const auto& [k, v] : p.headers)
    if (k == name) return v;
  return "<none>";
}
}  // namespace

TEST(AssetPlan, FullHeadAndConditional) {
  auto full = plan_asset_response(file(), {}, "b");
  EXPECT_EQ(full.status, 200);
  EXPECT_EQ(header(full, "Content-Length"), "1000");
  ASSERT_EQ(full.body.size(), 1U);
  EXPECT_EQ(full.body[0].length, 1000U);

  AssetConditions head;
  head.head = true;
  auto h = plan_asset_response(file(), head, "b");
  EXPECT_EQ(header(h, "Content-Length"), "1000");
  EXPECT_TRUE(h.body.empty());

  AssetConditions inm;
  inm.if_none_match = "\"x\", " + make_etag(file());
  EXPECT_EQ(plan_asset_response(file(), inm, "b").status, 304);
  inm.if_none_match = "\"other\"";
  EXPECT_EQ(plan_asset_response(file(), inm, "b").status, 200);

  AssetConditions ims;
  ims.if_modified_since = format_http_date(784111777);
  EXPECT_EQ(plan_asset_response(file(), ims, "b").status, 304);
  ims.if_modified_since = format_http_date(784111776);
  EXPECT_EQ(plan_asset_response(file(), ims, "b").status, 200);
}

TEST(AssetPlan, RangesAndMultipart) {
  AssetConditions c;
  c.range = "bytes=10-19";
  auto one = plan_asset_response(file(), c, "B");
  EXPECT_EQ(one.status, 206);
  EXPECT_EQ(header(one, "Content-Range"), "bytes 10-19/1000");
  EXPECT_EQ(header(one, "Content-Length"), "10");

  c.range = "bytes=0-1,-2";
  auto multi = plan_asset_response(file(), c, "B");
  EXPECT_EQ(multi.status, 206);
  EXPECT_EQ(header(multi, "Content-Type"), "multipart/byteranges; boundary=B");
  std::uint64_t total = 0;
  std::string text;
  for (const auto& p : multi.body) {
    total += p.is_file() ? p.length : p.text.size();
    text += p.is_file() ? std::string(p.length, '#') : p.text;
  }
  EXPECT_EQ(std::to_string(total), header(multi, "Content-Length"));
  EXPECT_EQ(text,
            "\r\n--B\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 0-1/1000\r\n\r\n##"
            "\r\n--B\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 998-999/1000\r\n\r\n##"
            "\r\n--B--\r\n");

  c.range = "bytes=5000-";
  auto bad = plan_asset_response(file(), c, "B");
  EXPECT_EQ(bad.status, 416);
  EXPECT_EQ(header(bad, "Content-Range"), "bytes */1000");

  c.range = "bytes=0-1";
  c.if_range = "\"stale\"";
  EXPECT_EQ(plan_asset_response(file(), c, "B").status, 200);
  c.if_range = make_etag(file());
  EXPECT_EQ(plan_asset_response(file(), c, "B").status, 206);
}
