#include "net/operator_server.hpp"

#include <openssl/ssl.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <ctime>
#include <map>
#include <system_error>

#include "auth/authenticator.hpp"
#include "auth/credential_file.hpp"
#include "auth/operator_ca.hpp"
#include "core/log.hpp"
#include "http/metrics_handler.hpp"
#include "http/reply_stream.hpp"
#include "http/response_head.hpp"
#include "http/router.hpp"
#include "http/service_state.hpp"
#include "kube/secret_files.hpp"
#include "net/http_server.hpp"

namespace ramfleet::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
using http::Reply;
using http::Request;
using Stream = beast::ssl_stream<beast::tcp_stream>;

namespace {

// An SSE comment every so often: keeps proxies from timing the stream out and
// finds clients that left without closing.
constexpr std::chrono::seconds kStreamKeepalive{15};

std::string http_date_now() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

awaitable<Reply> run_offloaded(std::function<Reply()> work) { co_return work(); }

struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};

}  // namespace

struct OperatorServer::Impl : std::enable_shared_from_this<OperatorServer::Impl> {
  Impl(asio::io_context& io_, HttpServer& http_, http::ApiSettings s, std::filesystem::path state)
      : io(io_),
        st(http_.state()),
        workers(http_.workers()),
        settings(std::move(s)),
        state_dir(std::move(state)),
        acceptor(io_),
        authn(auth::tokens_path(state_dir)) {}

  asio::io_context& io;
  http::ServiceState& st;
  asio::thread_pool& workers;
  http::ApiSettings settings;
  std::filesystem::path state_dir;
  ssl::context tls{ssl::context::tls_server};
  tcp::acceptor acceptor;
  auth::Authenticator authn;
  std::size_t active = 0;
  std::map<asio::ip::address, std::size_t> per_ip;
  bool stopped = false;
  // Shutting down (drain()): no new request; replies in flight finish.
  bool draining = false;
  // Sessions a drain must wake: those waiting for their next request, and
  // the streams (whose wake-up timer they wait on).
  std::map<Stream*, std::weak_ptr<Stream>> idle;
  std::map<Stream*, asio::steady_timer*> streaming;

  const http::HttpLimits& limits() const { return settings.limits; }

  void setup_tls() {
    std::filesystem::path cert = settings.tls_cert;
    std::filesystem::path key = settings.tls_key;
    if (cert.empty()) {
      std::tie(cert, key) = auth::ensure_server_cert(state_dir, settings.listen.address, kube::Clock::now());
    } else {
      auth::ensure_operator_ca(state_dir);  // client certificates still need it
    }
    const auto ca = auth::ca_cert_path(state_dir);
    try {
      tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                      ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
      tls.use_certificate_chain_file(cert.string());
      tls.use_private_key_file(key.string(), ssl::context::pem);
      tls.load_verify_file(ca.string());
      if (!settings.client_ca.empty()) tls.load_verify_file(settings.client_ca.string());
    } catch (const boost::system::system_error& e) {
      throw std::runtime_error("api: TLS material (" + cert.string() + ", " + key.string() + ", " + ca.string() +
                               (settings.client_ca.empty() ? "" : ", " + settings.client_ca.string()) +
                               "): " + e.what());
    }
    SSL_CTX* ctx = tls.native_handle();
    // Tell clients which CA their certificate must come from.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(ca.c_str())) SSL_CTX_set_client_CA_list(ctx, names);
    // Client certificates are optional (bearer tokens need none); one that
    // does not verify fails the handshake.
    tls.set_verify_mode(ssl::verify_peer);
    static const unsigned char kSessionContext[] = "ramfleet-operator";
    SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  }

  // --- one connection ---------------------------------------------------------

  Request to_request(bhttp::request<bhttp::string_body>& msg, const std::string& peer) {
    Request req;
    req.method = http::parse_method(msg.method_string());
    req.target = std::string(msg.target());
    req.peer = peer;
    auto field = [&](bhttp::field f) -> std::optional<std::string> {
      auto it = msg.find(f);
      if (it == msg.end()) return std::nullopt;
      return std::string(it->value());
    };
    req.host = field(bhttp::field::host).value_or("");
    req.if_none_match = field(bhttp::field::if_none_match);
    req.authorization = field(bhttp::field::authorization);
    if (auto it = msg.find("Last-Event-ID"); it != msg.end()) req.last_event_id = std::string(it->value());
    req.body = std::move(msg.body());
    return req;
  }

  // Who is asking: sets req.caller, or counts and logs why not (the router
  // then answers 401).
  void authenticate(Request& req, const X509* verified_peer) {
    auto who = authn.authenticate(req.authorization, verified_peer);
    if (auto* op = std::get_if<http::Operator>(&who)) {
      req.caller = std::move(*op);
      return;
    }
    const auto why = std::get<auth::Refusal>(who);
    if (why == auth::Refusal::no_credential) return;  // the router counts plain 401s
    st.counters.inc("http.operator.auth." + std::string(auth::to_string(why)));
    log::warn("api.auth_refused", {{"peer", req.peer}, {"reason", std::string(auth::to_string(why))}});
  }

  awaitable<Reply> answer(Request& req, const X509* verified_peer) {
    Reply reply;
    try {
      authenticate(req, verified_peer);
      reply = http::route_operator(st, req);
    } catch (const std::exception& e) {
      co_return internal_error(req, e);
    }
    if (reply.offload) {
      try {
        reply = co_await asio::co_spawn(workers, run_offloaded(std::move(reply.offload)), use_awaitable);
      } catch (const std::exception& e) {
        co_return internal_error(req, e);
      }
      if (req.method == http::Method::head) http::strip_body_for_head(reply);
    }
    if (reply.file) {  // the operator routes have no file bodies; never send a wrong length
      co_return internal_error(req, std::runtime_error("file reply on the operator listener"));
    }
    co_return reply;
  }

  Reply internal_error(const Request& req, const std::exception& e) {
    st.counters.inc("http.error.internal");
    log::error("api.internal_error", {{"target", req.target}, {"error", e.what()}});
    return http::error_reply(500, "internal error");
  }

  // Bounded by the send rate: a reply of n bytes gets send_window plus what
  // min_send_rate needs for n.
  awaitable<bool> write_all(Stream& s, std::string_view data) {
    auto& lowest = beast::get_lowest_layer(s);
    const auto rate = std::max<std::uint64_t>(1, limits().min_send_rate);
    lowest.expires_after(limits().send_window + std::chrono::milliseconds(data.size() * 1000 / rate));
    boost::system::error_code ec;
    co_await asio::async_write(s, asio::buffer(data), asio::redirect_error(use_awaitable, ec));
    if (ec == beast::error::timeout) st.counters.inc("http.error.send_too_slow");
    co_return !ec;
  }

  awaitable<bool> write_reply(Stream& s, const Reply& r, bool keep_alive, unsigned version) {
    if (r.headers_only)
      co_return co_await write_all(s, http::serialize_head(r, r.content_length, keep_alive, version, http_date_now()));
    const bool body = http::status_has_body(r.status);
    std::string out =
        http::serialize_head(r, r.body.size(), keep_alive, version, http_date_now(), body ? r.body.size() : 0);
    if (body) out += r.body;
    co_return co_await write_all(s, out);
  }

  // A streamed reply (http/reply_stream.hpp): the head, then what the
  // producer queues, until it finishes or the client leaves.
  awaitable<void> write_stream(Stream& s, Reply r) {
    auto stream = r.stream;
    std::string head = "HTTP/1.1 " + std::to_string(r.status) + " " + std::string(http::reason_phrase(r.status)) +
                       "\r\nServer: ramfleet\r\nDate: " + http_date_now() + "\r\n";
    for (const auto& [k, v] : r.headers) head += k + ": " + v + "\r\n";
    head += "Cache-Control: no-store\r\nConnection: close\r\n\r\n";
    // A small kernel send buffer: a client that stops reading holds at most
    // this much there, and its stream's own bounded queue (event_feed.hpp)
    // fills after a few hundred events instead of after megabytes.
    boost::system::error_code opt_ec;
    beast::get_lowest_layer(s).socket().set_option(asio::socket_base::send_buffer_size(64 * 1024), opt_ec);
    asio::steady_timer wake(io);
    stream->on_ready([&wake] { wake.cancel(); });
    st.counters.inc("http.operator.streams");
    streaming[&s] = &wake;
    bool ok = co_await write_all(s, head);
    while (ok && !draining) {  // a drain ends a stream: it never finishes by itself
      std::string data = stream->take();
      if (!data.empty()) {
        ok = co_await write_all(s, data);
        continue;
      }
      if (stream->finished()) break;
      boost::system::error_code ec;
      wake.expires_after(kStreamKeepalive);
      co_await wake.async_wait(asio::redirect_error(use_awaitable, ec));
      if (!ec) ok = co_await write_all(s, ": keepalive\n\n");  // the interval passed with nothing to say
    }
    streaming.erase(&s);
    stream->close();
  }

  Reply rejection_for(const boost::system::error_code& ec) {
    if (ec == beast::error::timeout) {
      st.counters.inc("http.operator.error.slow_client");
      return http::error_reply(
          408, "request not complete within " + std::to_string(limits().request_timeout.count()) + " ms");
    }
    if (ec == bhttp::error::header_limit) {
      st.counters.inc("http.operator.error.header_too_large");
      return http::error_reply(431,
                               "request header larger than " + std::to_string(limits().max_header_bytes) + " bytes");
    }
    if (ec == bhttp::error::body_limit) {
      st.counters.inc("http.operator.error.body_too_large");
      return http::error_reply(413, "request body larger than " + std::to_string(limits().max_body_bytes) + " bytes");
    }
    st.counters.inc("http.operator.error.bad_request");
    return http::error_reply(400, "malformed HTTP request: " + ec.message());
  }

  awaitable<void> session(std::shared_ptr<Stream> s, std::string peer) {
    auto& lowest = beast::get_lowest_layer(*s);
    boost::system::error_code ec;
    lowest.socket().set_option(tcp::no_delay(true), ec);
    lowest.expires_after(limits().request_timeout);
    co_await s->async_handshake(ssl::stream_base::server, asio::redirect_error(use_awaitable, ec));
    if (ec) {
      // A client certificate from another CA ends here, as does a plain-HTTP
      // client or a scanner.
      st.counters.inc("http.operator.tls_refused");
      log::debug("api.tls_refused", {{"peer", peer}, {"error", ec.message()}});
      co_return;
    }
    std::unique_ptr<X509, X509Free> peer_cert(SSL_get1_peer_certificate(s->native_handle()));
    const X509* verified =
        peer_cert && SSL_get_verify_result(s->native_handle()) == X509_V_OK ? peer_cert.get() : nullptr;
    beast::flat_buffer buffer;
    for (;;) {
      // Between requests: idle_timeout for the first byte; then the whole
      // request within request_timeout, however it trickles in.
      if (buffer.size() == 0) {
        if (draining) break;
        lowest.expires_after(limits().idle_timeout);
        idle.emplace(s.get(), s);
        auto n = co_await s->async_read_some(buffer.prepare(4096), asio::redirect_error(use_awaitable, ec));
        idle.erase(s.get());
        if (ec) {
          if (ec == beast::error::timeout) st.counters.inc("http.operator.conn.idle_closed");
          break;
        }
        buffer.commit(n);
      }
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(limits().max_header_bytes));
      parser.body_limit(limits().max_body_bytes);
      lowest.expires_after(limits().request_timeout);
      co_await bhttp::async_read(*s, buffer, parser, asio::redirect_error(use_awaitable, ec));
      if (ec) {
        if (ec == bhttp::error::end_of_stream || ec == asio::error::eof || ec == ssl::error::stream_truncated ||
            ec == asio::error::connection_reset) {
          st.counters.inc("http.operator.conn.closed_mid_request");
          break;
        }
        Reply r = rejection_for(ec);
        log::warn("api.rejected", {{"peer", peer}, {"status", r.status}, {"error", ec.message()}});
        co_await write_reply(*s, r, false, 11);
        break;
      }
      auto& msg = parser.get();
      Request req = to_request(msg, peer);
      const auto started = std::chrono::steady_clock::now();
      Reply reply = co_await answer(req, verified);
      if (reply.stream) {
        co_await write_stream(*s, std::move(reply));
        break;
      }
      const bool keep = msg.keep_alive() && !reply.close && !draining;
      const bool written = co_await write_reply(*s, reply, keep, msg.version());
      http::observe_request(st, req, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
      if (!written || !keep) break;
    }
    lowest.expires_after(std::chrono::seconds(1));
    co_await s->async_shutdown(asio::redirect_error(use_awaitable, ec));
  }

  void spawn_session(tcp::socket sock, const asio::ip::address& addr, std::string peer) {
    ++active;
    ++per_ip[addr];
    st.counters.inc("http.operator.connections");
    auto s = std::make_shared<Stream>(beast::tcp_stream(std::move(sock)), tls);
    asio::co_spawn(io, session(s, std::move(peer)), [self = shared_from_this(), s, addr](const std::exception_ptr& e) {
      --self->active;
      if (auto it = self->per_ip.find(addr); it != self->per_ip.end() && --it->second == 0) self->per_ip.erase(it);
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          self->st.counters.inc("http.error.internal");
          log::error("api.session_failed", {{"error", ex.what()}});
        }
      }
    });
  }

  awaitable<void> accept_loop() {
    auto self = shared_from_this();
    asio::steady_timer backoff(io);
    while (!stopped) {
      boost::system::error_code ec;
      tcp::socket sock = co_await acceptor.async_accept(asio::redirect_error(use_awaitable, ec));
      if (ec) {
        if (ec == asio::error::operation_aborted || stopped) co_return;
        st.counters.inc("http.operator.error.accept");
        log::warn("api.accept_failed", {{"error", ec.message()}});
        backoff.expires_after(std::chrono::milliseconds(50));
        co_await backoff.async_wait(asio::redirect_error(use_awaitable, ec));
        continue;
      }
      const auto remote = sock.remote_endpoint(ec);
      if (ec) continue;
      // Over a limit: closed at once. Before TLS there is no way to say why,
      // and a refusal must not cost a handshake.
      if (active >= limits().max_connections) {
        st.counters.inc("http.operator.error.too_many_connections");
        continue;
      }
      if (auto it = per_ip.find(remote.address());
          it != per_ip.end() && it->second >= limits().max_connections_per_ip) {
        st.counters.inc("http.operator.error.too_many_connections_per_ip");
        continue;
      }
      spawn_session(std::move(sock), remote.address(),
                    remote.address().to_string() + ":" + std::to_string(remote.port()));
    }
  }

  void start() {
    setup_tls();
    boost::system::error_code ec;
    const auto& l = settings.listen;
    auto addr = asio::ip::make_address(l.address, ec);
    if (ec) {
      throw std::system_error(std::make_error_code(std::errc::invalid_argument),
                              "api: listen address '" + l.address + "' is not an IP address");
    }
    tcp::endpoint ep(addr, l.port);
    acceptor.open(ep.protocol(), ec);
    if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor.bind(ep, ec);
    if (!ec) acceptor.listen(256, ec);
    if (ec) throw std::system_error(ec, "api: cannot listen on " + l.address + ":" + std::to_string(l.port));
    st.operator_listener = url();
    // Where local clients find this listener (net/api_client.hpp), port 0 included.
    kube::write_file_atomic(auth::api_dir(state_dir) / "url", url() + "\n",
                            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                                std::filesystem::perms::group_read | std::filesystem::perms::others_read);
    log::info("api.listening", {{"url", url()}, {"state", state_dir.string()}});
    asio::co_spawn(io, accept_loop(), asio::detached);
  }

  std::string url() const {
    boost::system::error_code ec;
    auto ep = acceptor.local_endpoint(ec);
    const std::string host = settings.listen.address == "0.0.0.0" ? "127.0.0.1" : settings.listen.address;
    return "https://" + host + ":" + std::to_string(ec ? settings.listen.port : ep.port());
  }

  void stop() {
    stopped = true;
    boost::system::error_code ec;
    acceptor.close(ec);
  }

  void drain() {
    if (draining) return;
    draining = true;
    stop();
    boost::system::error_code ec;
    for (auto& [raw, weak] : idle)
      if (auto s = weak.lock()) beast::get_lowest_layer(*s).socket().cancel(ec);  // the session sees the client gone
    for (auto& [raw, wake] : streaming) wake->cancel();                           // the stream loop sees draining
    log::info("api.draining", {{"open_connections", active}, {"streams", streaming.size()}});
  }
};

OperatorServer::OperatorServer(boost::asio::io_context& io, HttpServer& http, http::ApiSettings settings,
                               std::filesystem::path state_dir)
    : impl_(std::make_shared<Impl>(io, http, std::move(settings), std::move(state_dir))) {}

OperatorServer::~OperatorServer() { impl_->stop(); }

void OperatorServer::start() { impl_->start(); }
void OperatorServer::stop() { impl_->stop(); }
void OperatorServer::drain() { impl_->drain(); }
std::size_t OperatorServer::open_connections() const { return impl_->active; }

std::uint16_t OperatorServer::port() const {
  boost::system::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

std::string OperatorServer::url() const { return impl_->url(); }

}  // namespace ramfleet::net
