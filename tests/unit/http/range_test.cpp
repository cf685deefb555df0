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
  EXPECT_EQ(parse_range("Bytes = 1-2 , 400-500", 1000).ranges, (std::vector<ByteRange>{{1, 2}, {400, 500}}));
}

TEST(Range, OverlappingAdjacentAndNearRangesAreCoalesced) {
  // 32 x "0-" used to mean 32 copies of the file.
  std::string same = "bytes=";
  for (int i = 0; i < 32; ++i) same += "0-,";
  EXPECT_EQ(parse_range(same, 1 << 20).ranges, (std::vector<ByteRange>{{0, (1 << 20) - 1}}));
  EXPECT_EQ(parse_range("bytes=10-19,20-29", 1000).ranges, (std::vector<ByteRange>{{10, 29}}));
  EXPECT_EQ(parse_range("bytes=10-19,15-40,0-12", 1000).ranges, (std::vector<ByteRange>{{0, 40}}));
  // Closer than a part header costs: one range; further: two, sorted.
  EXPECT_EQ(parse_range("bytes=500-510,0-9", 1000).ranges, (std::vector<ByteRange>{{0, 9}, {500, 510}}));
  EXPECT_EQ(parse_range("bytes=0-9,50-59", 1000).ranges, (std::vector<ByteRange>{{0, 59}}));
  EXPECT_EQ(parse_range("bytes=-10,990-", 1000).ranges, (std::vector<ByteRange>{{990, 999}}));
}

TEST(Range, CoalesceNeverOverflows) {
  const std::uint64_t top = ~std::uint64_t{0};
  auto out = coalesce_ranges({{top - 1, top - 1}, {0, 0}, {top, top}});
  EXPECT_EQ(out, (std::vector<ByteRange>{{0, 0}, {top - 1, top}}));
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

TEST(AssetPlan, OverlappingRangesNeverSendMoreThanTheFile) {
  AssetConditions c;
  std::string same = "bytes=";
  for (int i = 0; i < 32; ++i) same += "0-,";
  c.range = same;
  auto p = plan_asset_response(file(), c, "B");
  EXPECT_EQ(p.status, 206);  // coalesced into one range: the whole file as a single part
  EXPECT_EQ(header(p, "Content-Length"), "1000");
}

TEST(AssetPlan, PartsCostlierThanTheFileGetTheWholeFile) {
  // Many one-byte ranges far apart: each part header costs ~90 bytes, more
  // than the file; RFC 9110 lets us ignore Range and send 200.
  AssetConditions c;
  c.range = "bytes=0-0,90-90,180-180,270-270";
  FileInfo small{300, 784111777, 5, "application/octet-stream"};
  auto p = plan_asset_response(small, c, "B");
  EXPECT_EQ(p.status, 200);
  EXPECT_TRUE(p.range_ignored);
  EXPECT_EQ(header(p, "Content-Length"), "300");
  std::uint64_t body = 0;
  for (const auto& piece : p.body) body += piece.is_file() ? piece.length : piece.text.size();
  EXPECT_EQ(body, 300U);
  // The same ranges on a bigger file cost less than it: four parts.
  FileInfo big{100000, 784111777, 5, "application/octet-stream"};
  EXPECT_EQ(plan_asset_response(big, c, "B").status, 206);
}
