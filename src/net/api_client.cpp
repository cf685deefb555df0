#include "net/api_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "auth/admin_token.hpp"
#include "auth/credential_file.hpp"
#include "auth/operator_ca.hpp"
#include "kube/secret_files.hpp"
#include "net/tls_client.hpp"

namespace ramfleet::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;

std::optional<HttpResult> http_get(const std::string& host, int port, const std::string& path, int timeout_ms) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  timeval tv{timeout_ms / 1000, static_cast<suseconds_t>(timeout_ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return std::nullopt;
  }
  std::string req = "GET " + path + " HTTP/1.0\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return std::nullopt;
  }
  std::string resp;
  char buf[16384];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    resp.append(buf, static_cast<std::size_t>(n));
    if (resp.size() > (64u << 20)) break;
  }
  ::close(fd);
  auto head_end = resp.find("\r\n\r\n");
  if (resp.compare(0, 5, "HTTP/") != 0 || head_end == std::string::npos) return std::nullopt;
  auto sp = resp.find(' ');
  HttpResult r;
  r.status = std::atoi(resp.c_str() + sp + 1);
  r.body = resp.substr(head_end + 4);
  return r;
}

namespace {
std::string describe(const boost::system::error_code& ec) {
  if (ec == beast::error::timeout) return "timed out";
  return ec.message();
}

asio::awaitable<void> exchange(ssl::context& ctx, const HttpsTarget& t, bhttp::request<bhttp::string_body> req,
                               std::chrono::milliseconds timeout, ApiReply& out) {
  TlsStream s(co_await asio::this_coro::executor, ctx);
  beast::get_lowest_layer(s).expires_after(timeout);
  try {
    co_await tls_connect(s, t);
    co_await bhttp::async_write(s, req, asio::use_awaitable);
    beast::flat_buffer buf;
    bhttp::response_parser<bhttp::string_body> p;
    p.body_limit(ApiClient::kMaxReply);
    co_await bhttp::async_read(s, buf, p, asio::use_awaitable);
    out.status = static_cast<int>(p.get().result_int());
    out.body = std::move(p.get().body());
    boost::system::error_code ignored;
    beast::get_lowest_layer(s).socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  } catch (const boost::system::system_error& e) {
    out.error = describe(e.code());
  }
}
}  // namespace

struct ApiClient::Impl {
  explicit Impl(ApiEndpoint e)
      : endpoint(std::move(e)),
        target(*parse_https_url(endpoint.url)),
        ctx(make_tls_client_context(endpoint.ca_file)) {}
  ApiEndpoint endpoint;
  HttpsTarget target;
  ssl::context ctx;
};

ApiClient::ApiClient(ApiEndpoint endpoint) {
  if (!parse_https_url(endpoint.url)) {
    throw std::runtime_error("operator API URL must be https://IPv4:PORT or https://localhost:PORT, got '" +
                             endpoint.url + "'");
  }
  try {
    impl_ = std::make_unique<Impl>(std::move(endpoint));
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error("operator API CA file: " + std::string(e.what()));
  }
}

ApiClient::~ApiClient() = default;

const ApiEndpoint& ApiClient::endpoint() const { return impl_->endpoint; }

ApiReply ApiClient::request(std::string_view method, std::string_view path, std::string_view body,
                            std::chrono::milliseconds timeout) {
  ApiReply out;
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), path, 11};
  req.set(bhttp::field::host, impl_->target.host_header());
  req.set(bhttp::field::user_agent, "ramfleet");
  req.set(bhttp::field::connection, "close");
  if (!impl_->endpoint.token.empty()) req.set(bhttp::field::authorization, "Bearer " + impl_->endpoint.token);
  if (!body.empty()) {
    req.set(bhttp::field::content_type, "application/json");
    req.body() = std::string(body);
  }
  req.prepare_payload();
  asio::io_context io{1};
  asio::co_spawn(io, exchange(impl_->ctx, impl_->target, std::move(req), timeout, out), asio::detached);
  io.run();
  return out;
}

std::optional<nlohmann::json> ApiClient::get_json(std::string_view path, std::chrono::milliseconds timeout) {
  auto r = request("GET", path, {}, timeout);
  if (!r.answered() || r.status != 200) return std::nullopt;
  auto doc = nlohmann::json::parse(r.body, nullptr, false);
  if (doc.is_discarded()) return std::nullopt;
  return doc;
}

ApiReply api_request(const ApiEndpoint& endpoint, std::string_view method, std::string_view path,
                     std::string_view body) {
  try {
    return ApiClient(endpoint).request(method, path, body);
  } catch (const std::exception& e) {
    ApiReply r;
    r.error = e.what();
    return r;
  }
}

std::optional<ApiEndpoint> default_endpoint(const std::filesystem::path& state_dir, std::string* why) {
  ApiEndpoint e;
  auto token = auth::read_admin_token(state_dir);
  if (!token) {
    if (why != nullptr) {
      *why = "cannot read " + auth::admin_token_path(state_dir).string() +
             " (serve writes it on its first start; run as root, or give a token)";
    }
    return std::nullopt;
  }
  e.token = *token;
  e.ca_file = auth::ca_cert_path(state_dir);
  if (!std::filesystem::exists(e.ca_file)) {
    if (why != nullptr) *why = "no operator CA at " + e.ca_file.string();
    return std::nullopt;
  }
  auto url = kube::read_file(auth::api_dir(state_dir) / "url");
  e.url = "https://127.0.0.1:9443";
  if (url) {
    while (!url->empty() && (url->back() == '\n' || url->back() == ' ')) url->pop_back();
    if (parse_https_url(*url)) e.url = *url;
  }
  return e;
}

}  // namespace ramfleet::net
