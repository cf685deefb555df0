// GET/HEAD /assets/... through route(): real files in a temporary directory,
// the reply's plan (status, headers, file segments) checked without a socket.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "http/response_head.hpp"
#include "http/router.hpp"

namespace ramfleet::http {
namespace {
namespace fs = std::filesystem;

struct AssetHandlerTest : ::testing::Test {
  fs::path base = fs::temp_directory_path() / ("rf-asset-handler-" + std::to_string(::getpid()));
  ServiceState st;

  AssetHandlerTest() {
    fs::remove_all(base);
    fs::create_directories(base / "assets" / "sub");
    std::ofstream(base / "assets" / "sub" / "vmlinuz") << std::string(1000, 'k');
    std::ofstream(base / "secret") << "secret";
    fs::create_symlink(base / "secret", base / "assets" / "out");
    st.inventory = std::make_shared<inventory::Inventory>();
    st.assets_root = fs::canonical(base / "assets");
  }
  ~AssetHandlerTest() override { fs::remove_all(base); }

  Reply get(std::string target, Method m = Method::get) {
    Request req;
    req.method = m;
    req.target = std::move(target);
    return route(st, req);
  }
  static std::string header(const Reply& r, std::string_view name) {
    for (const auto& [k, v] : r.headers)
      if (k == name) return v;
    return "<none>";
  }
  static std::uint64_t planned_bytes(const Reply& r) {
    std::uint64_t n = 0;
    for (const auto& p : r.pieces) n += p.is_file() ? p.length : p.text.size();
    return n;
  }
};

TEST_F(AssetHandlerTest, ServesAFileAsOneSegment) {
  auto r = get("/assets/sub/vmlinuz");
  EXPECT_EQ(r.status, 200);
  ASSERT_TRUE(r.file);
  EXPECT_EQ(r.content_length, 1000U);
  EXPECT_EQ(planned_bytes(r), 1000U);
  EXPECT_EQ(header(r, "Accept-Ranges"), "bytes");
  EXPECT_NE(header(r, "ETag"), "<none>");
  EXPECT_EQ(st.counters.get("http.assets.served"), 1U);
}

TEST_F(AssetHandlerTest, HeadKeepsLengthAndSendsNothing) {
  auto r = get("/assets/sub/vmlinuz", Method::head);
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.headers_only);
  EXPECT_EQ(r.content_length, 1000U);
  EXPECT_TRUE(r.pieces.empty());
  const auto head = serialize_head(r, r.content_length, true, 11, "d");
  EXPECT_NE(head.find("Content-Length: 1000\r\n"), std::string::npos);
}

TEST_F(AssetHandlerTest, TraversalIs403AndCounted) {
  EXPECT_EQ(get("/assets/../secret").status, 403);  // segments are not normalised: ".." is refused
  EXPECT_EQ(get("/assets/%2e%2e/secret").status, 403);
  EXPECT_EQ(get("/assets//etc/passwd").status, 403);
  EXPECT_EQ(get("/assets/sub%2f..%2f..%2fsecret").status, 403);
  EXPECT_EQ(get("/assets/out").status, 403);  // symlink leading outside
  EXPECT_EQ(st.counters.get("http.assets.traversal_refused"), 5U);
}

TEST_F(AssetHandlerTest, MissingAndDirectoryAre404) {
  EXPECT_EQ(get("/assets/nope").status, 404);
  EXPECT_EQ(get("/assets/sub").status, 404);
}

TEST_F(AssetHandlerTest, ThirtyTwoOverlappingRangesSendTheFileOnce) {
  Request req;
  req.target = "/assets/sub/vmlinuz";
  req.range = "bytes=";
  for (int i = 0; i < 32; ++i) *req.range += "0-,";
  auto r = route(st, req);
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.content_length, 1000U);
  EXPECT_EQ(planned_bytes(r), 1000U);
}

TEST_F(AssetHandlerTest, NotModifiedAndUnsatisfiable) {
  auto first = get("/assets/sub/vmlinuz");
  Request req;
  req.target = "/assets/sub/vmlinuz";
  req.if_none_match = "\"a\", " + header(first, "ETag");
  EXPECT_EQ(route(st, req).status, 304);
  req.if_none_match.reset();
  req.range = "bytes=5000-";
  auto r = route(st, req);
  EXPECT_EQ(r.status, 416);
  EXPECT_EQ(header(r, "Content-Range"), "bytes */1000");
}

}  // namespace
}  // namespace ramfleet::http
