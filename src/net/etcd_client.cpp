#include "net/etcd_client.hpp"

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <charconv>
#include <limits>
#include <optional>

#include "net/tls_client.hpp"

namespace ramfleet::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {
using Target = HttpsTarget;

// https://IPv4:PORT: members are dialled at the addresses cluster.yaml gives.
std::optional<Target> parse_url(std::string_view url) {
  auto t = parse_https_url(url);
  if (!t || t->verify_name != t->ip) return std::nullopt;
  return t;
}

std::string describe(const boost::system::error_code& ec) {
  if (ec == beast::error::timeout) return "timed out";
  return ec.message();
}

http::request<http::string_body> make_request(const Target& t, const etcd::GatewayRequest& req) {
  http::request<http::string_body> r{http::verb::post, req.path, 11};
  r.set(http::field::host, t.host_header());
  r.set(http::field::content_type, "application/json");
  r.set(http::field::user_agent, "ramfleet");
  r.body() = req.body;
  r.prepare_payload();
  return r;
}

using Stream = TlsStream;

asio::awaitable<void> open(Stream& s, const Target& t) { co_await tls_connect(s, t); }

asio::awaitable<void> exchange(ssl::context& ctx, Target t, etcd::GatewayRequest req,
                               std::chrono::steady_clock::time_point deadline, EtcdReply& out) {
  Stream s(co_await asio::this_coro::executor, ctx);
  beast::get_lowest_layer(s).expires_at(deadline);
  try {
    co_await open(s, t);
    auto r = make_request(t, req);
    co_await http::async_write(s, r, asio::use_awaitable);
    beast::flat_buffer buf;
    http::response_parser<http::string_body> p;
    p.body_limit(EtcdClient::kMaxReply);
    co_await http::async_read(s, buf, p, asio::use_awaitable);
    out.status = static_cast<int>(p.get().result_int());
    out.body = std::move(p.get().body());
  } catch (const boost::system::system_error& e) {
    out.error = describe(e.code());
  }
}

asio::awaitable<void> streamed(ssl::context& ctx, Target t, etcd::GatewayRequest req, std::chrono::milliseconds idle,
                               const std::function<bool(std::string_view)>& sink, EtcdReply& out) {
  Stream s(co_await asio::this_coro::executor, ctx);
  auto& tcp_layer = beast::get_lowest_layer(s);
  tcp_layer.expires_after(idle);
  try {
    co_await open(s, t);
    auto r = make_request(t, req);
    co_await http::async_write(s, r, asio::use_awaitable);
    beast::flat_buffer buf;
    http::response_parser<http::buffer_body> p;
    p.body_limit(std::numeric_limits<std::uint64_t>::max());  // the sink bounds it
    tcp_layer.expires_after(idle);
    co_await http::async_read_header(s, buf, p, asio::use_awaitable);
    out.status = static_cast<int>(p.get().result_int());
    std::array<char, 1U << 16U> chunk{};
    while (!p.is_done()) {
      p.get().body().data = chunk.data();
      p.get().body().size = chunk.size();
      tcp_layer.expires_after(idle);
      boost::system::error_code ec;
      co_await http::async_read(s, buf, p, asio::redirect_error(asio::use_awaitable, ec));
      if (ec && ec != http::error::need_buffer) throw boost::system::system_error(ec);
      const std::size_t n = chunk.size() - p.get().body().size;
      if (n == 0) continue;
      if (out.status != 200) {
        if (out.body.size() < 65536) out.body.append(chunk.data(), n);
      } else if (!sink(std::string_view(chunk.data(), n))) {
        out.error = "stopped by the reader";
        co_return;
      }
    }
  } catch (const boost::system::system_error& e) {
    out.error = describe(e.code());
  }
}
}  // namespace

struct EtcdClient::Impl {
  explicit Impl(const EtcdTls& tls) : ctx(make_tls_client_context(tls.ca, tls.cert, tls.key)) {}
  ssl::context ctx;
};

EtcdClient::EtcdClient(const EtcdTls& tls) {
  try {
    impl_ = std::make_unique<Impl>(tls);
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error("etcd client certificate (" + tls.cert.string() + ", " + tls.key.string() + ", CA " +
                             tls.ca.string() + "): " + e.what());
  }
}

EtcdClient::~EtcdClient() = default;

std::vector<EtcdReply> EtcdClient::post_each(const std::vector<std::string>& urls, const etcd::GatewayRequest& req,
                                             std::chrono::milliseconds timeout) {
  asio::io_context io{1};
  std::vector<EtcdReply> out(urls.size());
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (std::size_t i = 0; i < urls.size(); ++i) {
    auto t = parse_url(urls[i]);
    if (!t) {
      out[i].error = "not an https://IPv4:PORT URL: " + urls[i];
      continue;
    }
    asio::co_spawn(io, exchange(impl_->ctx, *t, req, deadline, out[i]), asio::detached);
  }
  io.run();
  return out;
}

EtcdReply EtcdClient::post(const std::string& url, const etcd::GatewayRequest& req, std::chrono::milliseconds timeout) {
  return std::move(post_each({url}, req, timeout).front());
}

EtcdReply EtcdClient::stream(const std::string& url, const etcd::GatewayRequest& req, std::chrono::milliseconds idle,
                             const std::function<bool(std::string_view)>& sink) {
  EtcdReply out;
  auto t = parse_url(url);
  if (!t) {
    out.error = "not an https://IPv4:PORT URL: " + url;
    return out;
  }
  asio::io_context io{1};
  asio::co_spawn(io, streamed(impl_->ctx, *t, req, idle, sink, out), asio::detached);
  io.run();
  return out;
}

}  // namespace ramfleet::net
