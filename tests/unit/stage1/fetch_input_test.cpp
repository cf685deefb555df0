// What the fetcher reads before any byte of the image: its command line, the
// URL, and the server's response head (untrusted, bounded).
#include <gtest/gtest.h>

#include <stdexcept>

#include "stage1/fetch_options.hpp"
#include "stage1/http_response_head.hpp"
#include "stage1/http_url.hpp"

namespace ramfleet::stage1 {
namespace {

const std::string hex64 = "ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789";

TEST(FetchOptions, ParsesTheStage1CommandLine) {
  std::string err;
  auto o = parse_fetch_options(
      {"fetch", "--url", "http://10.0.0.1:8080/a", "--sha256", hex64, "--into", "/newroot", "--attempts", "3"}, err);
  ASSERT_TRUE(o) << err;
  EXPECT_EQ(o->url, "http://10.0.0.1:8080/a");
  EXPECT_EQ(o->sha256_hex, "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
  EXPECT_EQ(o->sha256[0], 0xab);
  EXPECT_EQ(o->into, "/newroot");
  EXPECT_EQ(o->attempts, 3u);
  EXPECT_FALSE(o->p2p.enabled);
}

TEST(FetchOptions, ParsesThePeerToPeerOptions) {
  std::string err;
  auto o = parse_fetch_options({"fetch", "--url", "http://1.2.3.4/a", "--sha256", hex64, "--into", "/r", "--p2p",
                                "--manifest", "http://1.2.3.4/m", "--tracker", "http://1.2.3.4/t", "--credential", "c",
                                "--listen-port", "7480", "--seed-seconds", "30"},
                               err);
  ASSERT_TRUE(o) << err;
  EXPECT_TRUE(o->p2p.enabled);
  EXPECT_EQ(o->p2p.listen_port, 7480);
  EXPECT_EQ(o->p2p.seed_seconds, 30u);
  EXPECT_FALSE(parse_fetch_options({"fetch", "--url", "u", "--sha256", hex64, "--into", "/r", "--p2p"}, err));
  EXPECT_NE(err.find("--manifest"), std::string::npos);
}

TEST(FetchOptions, RefusesBadCommandLines) {
  std::string err;
  EXPECT_FALSE(parse_fetch_options({}, err));
  EXPECT_FALSE(parse_fetch_options({"get"}, err));
  EXPECT_FALSE(parse_fetch_options({"fetch", "--url", "u", "--into", "/r"}, err));
  EXPECT_NE(err.find("required"), std::string::npos);
  EXPECT_FALSE(parse_fetch_options({"fetch", "--url", "u", "--sha256", "abc", "--into", "/r"}, err));
  EXPECT_NE(err.find("64 hex"), std::string::npos);
  EXPECT_FALSE(parse_fetch_options({"fetch", "--url", "u", "--sha256", hex64, "--into", "/r", "--attempts", "0"}, err));
  EXPECT_FALSE(parse_fetch_options({"fetch", "--url", "u", "--sha256", hex64, "--into", "/r", "--bogus", "1"}, err));
  EXPECT_NE(err.find("unknown option"), std::string::npos);
  EXPECT_FALSE(parse_fetch_options({"fetch", "--url"}, err));
  EXPECT_NE(err.find("needs a value"), std::string::npos);
}

TEST(HttpUrl, TakesIpv4HostsOnly) {
  std::string err;
  auto u = parse_http_url("http://10.99.0.1:8080/assets/images/x/rootfs.cpio.zst", err);
  ASSERT_TRUE(u) << err;
  EXPECT_EQ(u->address, 0x0a630001u);
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->host, "10.99.0.1:8080");
  EXPECT_EQ(u->target, "/assets/images/x/rootfs.cpio.zst");
  u = parse_http_url("http://127.0.0.1", err);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->port, 80);
  EXPECT_EQ(u->target, "/");
  EXPECT_FALSE(parse_http_url("https://10.0.0.1/", err));
  EXPECT_NE(err.find("https"), std::string::npos);
  EXPECT_FALSE(parse_http_url("http://ramfleet.lan/", err));
  EXPECT_NE(err.find("IPv4"), std::string::npos);
  EXPECT_FALSE(parse_http_url("http://10.0.0.256/", err));
  EXPECT_FALSE(parse_http_url("http://10.0.0.1:0/", err));
  EXPECT_FALSE(parse_http_url("http://10.0.0.1:99999/", err));
  EXPECT_FALSE(parse_http_url("http://10.0.0.1/a b", err));
  EXPECT_FALSE(parse_http_url("ftp://10.0.0.1/", err));
}

HttpResponseHead parse(const std::string& text, std::size_t step = 1) {
  HttpResponseHeadParser p;
  std::size_t used = 0;
  for (std::size_t i = 0; i < text.size() && !p.done(); i += step)
    used += p.feed(as_bytes(std::string_view(text).substr(i, std::min(step, text.size() - i))));
  if (!p.done()) throw std::runtime_error("incomplete");
  EXPECT_EQ(text.substr(used), "BODY");
  return p.head();
}

TEST(HttpResponseHead, ParsesStatusAndTheHeadersStage1Needs) {
  std::string text =
      "HTTP/1.1 206 Partial Content\r\nContent-Length: 10\r\nContent-Range: bytes 5-14/100\r\nX-A:  b \r\n\r\nBODY";
  for (std::size_t step : {1ul, 7ul, 1000ul}) {
    auto h = parse(text, step);
    EXPECT_EQ(h.status, 206);
    EXPECT_EQ(h.reason, "Partial Content");
    EXPECT_EQ(h.content_length, 10u);
    EXPECT_EQ(h.range_first, 5u);
    EXPECT_EQ(h.range_last, 14u);
    EXPECT_EQ(h.range_total, 100u);
    ASSERT_NE(h.header("x-a"), nullptr);
    EXPECT_EQ(*h.header("x-a"), "b");
  }
  EXPECT_TRUE(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nBODY").chunked);
}

TEST(HttpResponseHead, RefusesMalformedAndOversizedHeads) {
  for (std::string bad :
       {"HTTP/2 200 OK\r\n\r\n", "HTTP/1.1 2x0 OK\r\n\r\n", "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Range: bytes 9-1/10\r\n\r\n", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        "HTTP/1.1 200 OK\r\n folded: x\r\n\r\n"}) {
    HttpResponseHeadParser p;
    EXPECT_THROW(p.feed(as_bytes(bad)), std::runtime_error) << bad;
  }
  HttpResponseHeadParser small(64);
  EXPECT_THROW(small.feed(as_bytes("HTTP/1.1 200 OK\r\nX: " + std::string(100, 'a'))), std::runtime_error);
  HttpResponseHeadParser few(1024, 2);
  EXPECT_THROW(few.feed(as_bytes(std::string("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"))), std::runtime_error);
}

}  // namespace
}  // namespace ramfleet::stage1
