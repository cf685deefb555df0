#include "http_client.hpp"

#include <sys/socket.h>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <vector>

#include "ipxe_script.hpp"

namespace storm {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

namespace {
// iPXE's and wget's patience: a connection or a stalled read this long is a failure.
constexpr auto kStall = std::chrono::seconds(30);
constexpr std::size_t kMaxKeptBody = 4u << 20;  // scripts and configs

// Kernels and images are dropped in the kernel: TCP's recv(MSG_TRUNC) discards
// the bytes without copying them out (tcp(7)), so a storm of 80 MB images
// costs the client little CPU. The buffer is never written; one serves all.
constexpr std::size_t kDiscardChunk = 1u << 20;
std::vector<char>& discard_buffer() {
  static std::vector<char> b(kDiscardChunk);
  return b;
}

asio::awaitable<std::string> discard_body(Storm& storm, tcp::socket& sock, std::uint64_t length, HttpReply& out) {
  asio::steady_timer timer(sock.get_executor());
  while (out.bytes < length) {
    boost::system::error_code ec;
    auto want = static_cast<std::size_t>(std::min<std::uint64_t>(kDiscardChunk, length - out.bytes));
    timer.expires_at(std::min(Clock::now() + kStall, storm.deadline));
    auto got = co_await (sock.async_receive(asio::buffer(discard_buffer().data(), want), MSG_TRUNC,
                                            asio::redirect_error(asio::use_awaitable, ec)) ||
                         timer.async_wait(asio::use_awaitable));
    if (got.index() == 1) co_return "stalled for 30 s";
    if (ec) co_return ec.message();
    auto n = std::get<0>(got);
    if (n == 0) co_return "connection closed";
    out.bytes += n;
  }
  co_return "";
}
}  // namespace

asio::awaitable<HttpReply> http_request(Storm& storm, const std::string& source, const HttpRequest& req) {
  HttpReply out;
  auto url = parse_http_url(req.url);
  if (!url) {
    out.error = "not an http URL: " + req.url;
    co_return out;
  }
  boost::system::error_code ec;
  auto ex = co_await asio::this_coro::executor;
  tcp::socket sock(ex);
  sock.open(tcp::v4(), ec);
  if (!ec) sock.bind(tcp::endpoint(asio::ip::make_address_v4(source, ec), 0), ec);
  if (ec) {
    out.error = "cannot bind to the leased address " + source + ": " + ec.message();
    co_return out;
  }
  auto host = asio::ip::make_address_v4(url->host, ec);
  if (ec) {
    out.error = "host is not an IPv4 address: " + url->host;
    co_return out;
  }
  beast::tcp_stream stream(std::move(sock));
  auto stall = [&] { stream.expires_at(std::min(Clock::now() + kStall, storm.deadline)); };
  stall();
  co_await stream.async_connect(tcp::endpoint(host, url->port), asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    out.error = "connect: " + ec.message();
    co_return out;
  }
  bhttp::request<bhttp::string_body> r{req.method == "POST" ? bhttp::verb::post : bhttp::verb::get, url->target, 11};
  r.set(bhttp::field::host, url->host);
  r.set(bhttp::field::user_agent, "iPXE/1.21.1 (ramfleet-storm)");
  r.set(bhttp::field::connection, "close");
  if (!req.authorization.empty()) r.set(bhttp::field::authorization, req.authorization);
  if (req.method == "POST") {
    r.set(bhttp::field::content_type, "application/json");
    r.body() = req.body;
    r.prepare_payload();
  }
  stall();
  co_await bhttp::async_write(stream, r, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    out.error = "send: " + ec.message();
    co_return out;
  }
  beast::flat_buffer buf;
  bhttp::response_parser<bhttp::buffer_body> parser;
  parser.body_limit(boost::none);
  stall();
  co_await bhttp::async_read_header(stream, buf, parser, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    out.error = "reading the header: " + ec.message();
    co_return out;
  }
  out.status = static_cast<int>(parser.get().result_int());
  if (parser.content_length()) out.content_length = *parser.content_length();
  if (auto it = parser.get().find(bhttp::field::retry_after); it != parser.get().end()) {
    const auto v = it->value();
    unsigned n = 0;
    auto [end, ec2] = std::from_chars(v.data(), v.data() + v.size(), n);
    out.retry_after = (ec2 == std::errc{} && end == v.data() + v.size()) ? n : 5U;
  }

  std::vector<char> chunk(64 * 1024);
  if (out.content_length && !parser.chunked()) {
    // Content-Length: what the header read buffered is the body's start; the
    // rest comes straight off the socket.
    auto take = [&](const char* p, std::size_t n) {
      out.bytes += n;
      if (req.keep_body && out.body.size() + n <= kMaxKeptBody) out.body.append(p, n);
    };
    auto buffered = std::min<std::uint64_t>(buf.size(), *out.content_length);
    take(static_cast<const char*>(buf.data().data()), static_cast<std::size_t>(buffered));
    if (!req.keep_body) {
      auto why = co_await discard_body(storm, stream.socket(), *out.content_length, out);
      if (!why.empty()) {
        out.error =
            "body after " + std::to_string(out.bytes) + " of " + std::to_string(*out.content_length) + " bytes: " + why;
        co_return out;
      }
    }
    while (out.bytes < *out.content_length) {
      stall();
      auto want = std::min<std::uint64_t>(chunk.size(), *out.content_length - out.bytes);
      auto n = co_await stream.async_read_some(asio::buffer(chunk.data(), static_cast<std::size_t>(want)),
                                               asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        out.error = "body after " + std::to_string(out.bytes) + " of " + std::to_string(*out.content_length) +
                    " bytes: " + ec.message();
        co_return out;
      }
      take(chunk.data(), n);
    }
  } else {
    while (!parser.is_done()) {
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
      stall();
      co_await bhttp::async_read(stream, buf, parser, asio::redirect_error(asio::use_awaitable, ec));
      if (ec == bhttp::error::need_buffer) ec = {};
      if (ec) {
        out.error = "body: " + ec.message();
        co_return out;
      }
      auto n = chunk.size() - parser.get().body().size;
      out.bytes += n;
      if (req.keep_body && out.body.size() + n <= kMaxKeptBody) out.body.append(chunk.data(), n);
    }
  }
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  co_return out;
}

}  // namespace storm
