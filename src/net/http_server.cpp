#include "net/http_server.hpp"

#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cerrno>
#include <csignal>
#include <ctime>
#include <map>
#include <system_error>

#include "boot/identity_issuer.hpp"
#include "boot/node_config.hpp"
#include "core/log.hpp"
#include "core/mac_address.hpp"
#include "core/metrics.hpp"
#include "core/work_pool.hpp"
#include "http/metrics_handler.hpp"
#include "http/response_head.hpp"
#include "http/route_label.hpp"
#include "http/router.hpp"
#include "http/service_upkeep.hpp"

namespace ramfleet::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;
using http::Reply;
using http::Request;

namespace {
// Connections accepted per wake-up of the listening socket (bounded so that a
// flood of connects cannot keep the loop from everything else).
constexpr int kAcceptsPerTurn = 256;

// A connection: the socket plus a deadline that cancels its pending I/O when it
// expires. Shared with the timer's handler so neither outlives the other.
//
// Arming is lazy, because it happens around every read of every request:
// arm_at() and disarm() only store the deadline; the timer is restarted only
// when the new deadline is earlier than the pending wait. When a wait ends
// before the deadline (the connection was re-armed later since), it waits
// again. A keep-alive connection thus costs one timer wait per idle_timeout,
// not two timer operations per request.
struct Conn : std::enable_shared_from_this<Conn> {
  explicit Conn(tcp::socket s) : sock(std::move(s)), timer(sock.get_executor()) {}
  tcp::socket sock;
  asio::steady_timer timer;
  bool timed_out = false;
  bool waiting = false;  // an async_wait is pending
  Clock::time_point deadline = Clock::time_point::max();
  std::string peer;
  // Send-rate accounting (see wait_writable): bytes handed to the kernel on
  // this connection, and how many of them the client had taken when the
  // current window began.
  std::uint64_t written = 0;
  Clock::time_point window_start;
  std::uint64_t window_base = 0;
  // Waiting for the next request on a kept-alive connection: a drain closes it.
  bool between_requests = false;

  // Bytes the client has taken: handed to the kernel minus what still sits in
  // the send queue (SIOCOUTQ: unsent plus unacknowledged). Counting only what
  // we write would misjudge a slow reader: with a multi-megabyte send buffer
  // the socket turns writable again only after much of it drained.
  [[nodiscard]] std::uint64_t taken() {
    int queued = 0;
    if (::ioctl(sock.native_handle(), SIOCOUTQ, &queued) != 0 || queued < 0) return written;
    const auto q = static_cast<std::uint64_t>(queued);
    return q > written ? 0 : written - q;
  }
  void start_window() {
    window_start = Clock::now();
    window_base = taken();
  }

  void arm_at(Clock::time_point at) {
    timed_out = false;
    deadline = at;
    if (waiting && timer.expiry() <= deadline) return;  // fires first, then re-checks
    timer.expires_at(deadline);                         // cancels the pending wait, if any
    wait();
  }
  void arm(std::chrono::milliseconds d) { arm_at(Clock::now() + d); }
  void disarm() { deadline = Clock::time_point::max(); }
  // At the end of the session: release the pending wait (it holds the Conn).
  void release() {
    deadline = Clock::time_point::max();
    timer.cancel();
  }

 private:
  void wait() {
    waiting = true;
    timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec == asio::error::operation_aborted) return;  // replaced by a newer wait, or released
      self->waiting = false;
      if (ec || self->deadline == Clock::time_point::max()) return;
      if (Clock::now() < self->deadline) {  // re-armed for later since this wait began
        self->timer.expires_at(self->deadline);
        self->wait();
        return;
      }
      self->timed_out = true;
      self->deadline = Clock::time_point::max();
      boost::system::error_code ignored;
      self->sock.cancel(ignored);
    });
  }
};

const std::string& http_date_now() {
  static std::time_t cached_at = 0;
  static std::string cached;
  std::time_t now = std::time(nullptr);
  if (now != cached_at) {
    cached_at = now;
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[40];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached = buf;
  }
  return cached;
}

// Reply::offload work, run on the worker pool. A coroutine function, not a
// capturing lambda: its argument lives in its own frame.
awaitable<Reply> run_offloaded(std::function<Reply()> work) { co_return work(); }

std::string head_of(const Reply& r, std::uint64_t length, bool keep_alive, unsigned version,
                    std::size_t body_room = 0) {
  return http::serialize_head(r, length, keep_alive, version, http_date_now(), body_room);
}

}  // namespace

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(asio::io_context& io_, http::HttpSettings s) : io(io_), acceptor(io_), flush_timer(io_), reload_timer(io_) {
    st.settings = std::move(s);
  }

  asio::io_context& io;
  http::ServiceState st;
  tcp::acceptor acceptor;
  asio::steady_timer flush_timer;
  asio::steady_timer reload_timer;
  std::size_t active = 0;
  std::size_t rejecting = 0;
  std::map<asio::ip::address, std::size_t> per_ip;  // open sessions per client address
  bool stopped = false;
  bool draining = false;  // shutting down: no new requests, replies in flight finish
  // Every open session's connection, so a drain can wake those that wait idle.
  std::map<Conn*, std::weak_ptr<Conn>> sessions;
  // Issues node identities on worker threads (boot/identity_issuer.hpp);
  // null with http.identity_workers: 0. Destroyed (its threads joined) before
  // st, whose counters its completions touch on the loop.
  std::unique_ptr<boot::IdentityIssuer> identities;
  // Runs Reply::offload work (slow reads) off the loop. Declared last, so it is
  // joined before the state its work reads (the store) is destroyed. One thread:
  // at most one such read at a time; the queue is bounded by max_connections.
  asio::thread_pool workers{1};

  const http::HttpLimits& limits() const { return st.settings.limits; }

  // --- writing ---------------------------------------------------------------

  // Sends all of `data`; MSG_MORE keeps a header in the same segment as the
  // file data sendfile(2) adds right after it.
  awaitable<bool> send_all(Conn& c, std::string_view data, bool more) {
    const int fd = c.sock.native_handle();
    while (!data.empty()) {
      ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | (more ? MSG_MORE : 0));
      if (n > 0) {
        data.remove_prefix(static_cast<std::size_t>(n));
        c.written += static_cast<std::uint64_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!co_await wait_writable(c)) co_return false;
        continue;
      }
      co_return false;
    }
    co_return true;
  }

  // The socket is full. Wait until it drains, but judge the client by its
  // rate, not by a per-wait timeout (which a reader taking one byte now and
  // then would reset forever): every send_window, the bytes it took in that
  // window must reach min_send_rate x window, else the connection is closed.
  awaitable<bool> wait_writable(Conn& c) {
    const auto window = limits().send_window;
    const std::uint64_t needed = limits().min_send_rate * static_cast<std::uint64_t>(window.count()) / 1000;
    std::uint64_t took = 0;
    for (;;) {
      if (Clock::now() >= c.window_start + window) {
        took = c.taken() - c.window_base;
        if (took < needed) break;
        c.start_window();
      }
      boost::system::error_code ec;
      c.arm_at(c.window_start + window);
      co_await c.sock.async_wait(tcp::socket::wait_write, asio::redirect_error(use_awaitable, ec));
      c.disarm();
      if (!ec) co_return true;
      if (!c.timed_out) co_return false;  // the socket failed
    }
    st.counters.inc("http.error.send_too_slow");
    log::warn("http.send_too_slow",
              {{"peer", c.peer}, {"taken_in_window", took}, {"needed", needed}, {"window_ms", window.count()}});
    co_return false;
  }

  awaitable<bool> send_file(Conn& c, int file_fd, std::uint64_t offset, std::uint64_t length) {
    const int fd = c.sock.native_handle();
    off_t off = static_cast<off_t>(offset);
    while (length > 0) {
      const std::size_t chunk = static_cast<std::size_t>(std::min<std::uint64_t>(length, 1U << 30));
      ssize_t n = ::sendfile(fd, file_fd, &off, chunk);
      if (n > 0) {
        length -= static_cast<std::uint64_t>(n);
        c.written += static_cast<std::uint64_t>(n);
        continue;
      }
      if (n == 0) {  // the file shrank under us: the promised length cannot be kept
        st.counters.inc("http.error.file_truncated");
        co_return false;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (!co_await wait_writable(c)) co_return false;
        continue;
      }
      co_return false;
    }
    co_return true;
  }

  awaitable<bool> write_reply(Conn& c, const Reply& r, bool keep_alive, unsigned version) {
    c.start_window();
    if (r.headers_only) {  // HEAD: the GET reply's head, no body
      co_return co_await send_all(c, head_of(r, r.content_length, keep_alive, version), false);
    }
    if (!r.file) {
      const bool body = http::status_has_body(r.status);
      std::string out = head_of(r, r.body.size(), keep_alive, version, body ? r.body.size() : 0);
      if (body) out += r.body;
      co_return co_await send_all(c, out, false);
    }
    const std::string h = head_of(r, r.content_length, keep_alive, version);
    if (!co_await send_all(c, h, !r.pieces.empty())) co_return false;
    for (std::size_t i = 0; i < r.pieces.size(); ++i) {
      const auto& p = r.pieces[i];
      const bool more = i + 1 < r.pieces.size();
      if (p.is_file()) {
        if (!co_await send_file(c, r.file->fd(), p.offset, p.length)) co_return false;
      } else if (!co_await send_all(c, p.text, more)) {
        co_return false;
      }
    }
    co_return true;
  }

  // After an error reply: stop sending, drain what the client still sends for
  // a moment, so it reads our reply instead of a connection reset.
  awaitable<void> linger_close(Conn& c) {
    boost::system::error_code ec;
    c.sock.shutdown(tcp::socket::shutdown_send, ec);
    char sink[4096];
    std::size_t drained = 0;
    c.arm(std::chrono::milliseconds(1000));
    while (drained < std::size_t{256} * 1024) {
      auto n = co_await c.sock.async_read_some(asio::buffer(sink), asio::redirect_error(use_awaitable, ec));
      if (ec) break;
      drained += n;
    }
    c.disarm();
    c.sock.close(ec);
  }

  // --- reading ---------------------------------------------------------------

  Request to_request(bhttp::request<bhttp::string_body>& msg, const Conn& c) {
    Request req;
    req.method = http::parse_method(msg.method_string());
    req.target = std::string(msg.target());
    req.peer = c.peer;
    auto field = [&](bhttp::field f) -> std::optional<std::string> {
      auto it = msg.find(f);
      if (it == msg.end()) return std::nullopt;
      return std::string(it->value());
    };
    req.host = field(bhttp::field::host).value_or("");
    req.range = field(bhttp::field::range);
    req.if_range = field(bhttp::field::if_range);
    req.if_none_match = field(bhttp::field::if_none_match);
    req.if_modified_since = field(bhttp::field::if_modified_since);
    req.authorization = field(bhttp::field::authorization);
    req.body = std::move(msg.body());
    return req;
  }

  Reply rejection_for(const boost::system::error_code& ec, const Conn& c) {
    if (c.timed_out) {
      st.counters.inc("http.error.slow_client");
      return http::error_reply(
          408, "request not complete within " + std::to_string(limits().request_timeout.count()) + " ms");
    }
    if (ec == bhttp::error::header_limit) {
      st.counters.inc("http.error.header_too_large");
      return http::error_reply(431,
                               "request header larger than " + std::to_string(limits().max_header_bytes) + " bytes");
    }
    if (ec == bhttp::error::body_limit) {
      st.counters.inc("http.error.body_too_large");
      return http::error_reply(413, "request body larger than " + std::to_string(limits().max_body_bytes) + " bytes");
    }
    st.counters.inc("http.error.bad_request");
    return http::error_reply(400, "malformed HTTP request: " + ec.message());
  }

  // How reading one request ended.
  enum class ReadEnd {
    complete,     // the parser holds a whole request
    client_left,  // between requests: the client closed, or idle_timeout
    cut_off,      // the client closed mid-request
    refused,      // malformed, too large or too slow: answer ec's rejection
  };

  // Reads one request into parser. The parser is fed directly (not through
  // http::async_read, whose composed operation cost more than parsing): what
  // is buffered first (pipelined requests), then reads while it needs more.
  // A kept-alive connection may sit idle until idle_timeout (then closed
  // silently); once a request has started, all of it must arrive by one
  // deadline, request_timeout after its first byte. The deadline is fixed
  // when the request starts and never moved by later reads, so a client
  // sending a byte now and then cannot hold the connection.
  awaitable<ReadEnd> read_request(Conn& c, beast::flat_buffer& buffer,
                                  bhttp::request_parser<bhttp::string_body>& parser, boost::system::error_code& ec) {
    bool started = buffer.size() > 0;
    if (draining && !started) co_return ReadEnd::client_left;
    Clock::time_point deadline = Clock::now() + (started ? limits().request_timeout : limits().idle_timeout);
    for (;;) {
      if (buffer.size() > 0) {
        const std::size_t used = parser.put(buffer.data(), ec);
        buffer.consume(used);
        if (ec == bhttp::error::need_more) {
          ec = {};
        } else if (ec) {
          co_return ReadEnd::refused;
        } else if (parser.is_done()) {
          co_return ReadEnd::complete;
        } else if (used > 0 && buffer.size() > 0) {
          continue;
        }
      }
      c.arm_at(deadline);
      c.between_requests = !started;
      auto n = co_await c.sock.async_read_some(buffer.prepare(8192), asio::redirect_error(use_awaitable, ec));
      c.between_requests = false;
      c.disarm();
      if (ec) {
        if (!started) co_return ReadEnd::client_left;
        if (!c.timed_out && (ec == asio::error::eof || ec == asio::error::connection_reset)) co_return ReadEnd::cut_off;
        co_return ReadEnd::refused;
      }
      buffer.commit(n);
      if (!started) {
        started = true;
        deadline = Clock::now() + limits().request_timeout;
      }
    }
  }

  // The reply to one request: routed on the event loop, and run on the
  // worker pool when the handler offloads it. An exception is a 500, logged.
  awaitable<Reply> answer(const Request& req) {
    Reply reply;
    try {
      reply = http::route(st, req);
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
    if (reply.deferred) reply = co_await wait_deferred(req, std::move(reply));
    co_return reply;
  }

  // A DeferredReply: the coroutine parks on a timer (the loop runs on) until
  // the work wakes it or the timeout passes; then resume()'s reply, or the
  // one that carried it.
  struct Parked {
    explicit Parked(asio::io_context& io) : timer(io) {}
    asio::steady_timer timer;
    bool woken = false;
  };
  awaitable<Reply> wait_deferred(const Request& req, Reply reply) {
    const auto d = std::move(reply.deferred);
    auto parked = std::make_shared<Parked>(io);
    parked->timer.expires_after(d->timeout);
    // The wake may come at once (inside wait), or after this request is gone.
    d->wait([weak = std::weak_ptr<Parked>(parked)] {
      if (auto p = weak.lock()) {
        p->woken = true;
        p->timer.cancel();
      }
    });
    if (!parked->woken) {
      boost::system::error_code ec;
      co_await parked->timer.async_wait(asio::redirect_error(use_awaitable, ec));
    }
    if (!parked->woken) {
      st.counters.inc("http.deferred.timed_out");
      co_return reply;
    }
    try {
      Reply resumed = d->resume();
      if (req.method == http::Method::head) http::strip_body_for_head(resumed);
      co_return resumed;
    } catch (const std::exception& e) {
      co_return internal_error(req, e);
    }
  }

  Reply internal_error(const Request& req, const std::exception& e) {
    st.counters.inc("http.error.internal");
    log::error("http.internal_error", {{"target", boot::redact_boot_token(req.target)}, {"error", e.what()}});
    return http::error_reply(500, "internal error");
  }

  // One connection: requests read, answered and written in turn while the
  // client keeps it alive.
  awaitable<void> session(std::shared_ptr<Conn> c) {
    boost::system::error_code ec;
    c->sock.set_option(tcp::no_delay(true), ec);
    c->sock.non_blocking(true, ec);
    auto ep = c->sock.remote_endpoint(ec);
    c->peer = ec ? "?" : ep.address().to_string() + ":" + std::to_string(ep.port());
    beast::flat_buffer buffer;
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(limits().max_header_bytes));
      parser.body_limit(limits().max_body_bytes);
      parser.eager(true);
      ec = {};
      const ReadEnd end = co_await read_request(*c, buffer, parser, ec);
      if (end == ReadEnd::client_left) {
        if (c->timed_out) st.counters.inc("http.conn.idle_closed");
        break;
      }
      if (end == ReadEnd::cut_off) {
        st.counters.inc("http.conn.closed_mid_request");
        break;
      }
      if (end == ReadEnd::refused) {
        Reply r = rejection_for(ec, *c);
        log::warn("http.rejected", {{"peer", c->peer}, {"status", r.status}, {"error", ec.message()}});
        co_await write_reply(*c, r, false, 11);
        co_await linger_close(*c);
        co_return;
      }
      auto& msg = parser.get();
      const Request req = to_request(msg, *c);
      const auto started = Clock::now();
      Reply reply = co_await answer(req);
      if (reply.status >= 400) {
        log::debug("http.error_reply",
                   {{"peer", c->peer}, {"target", boot::redact_boot_token(req.target)}, {"status", reply.status}});
      }
      const bool keep = msg.keep_alive() && !reply.close && !draining;
      const bool written = co_await write_reply(*c, reply, keep, msg.version());
      // From the whole request read to the reply written (the kernel has it), files included.
      http::observe_request(st, req, std::chrono::duration<double>(Clock::now() - started).count());
      reply.hold.reset();  // a transfer slot (http/pacing.hpp) is free once the kernel has the bytes
      if (!written) break;
      if (!keep) {
        co_await linger_close(*c);
        co_return;
      }
    }
    c->sock.close(ec);
  }

  // Over a connection limit: a short 503 and close, without holding a slot.
  awaitable<void> reject(std::shared_ptr<Conn> c, std::string why) {
    boost::system::error_code ec;
    c->sock.non_blocking(true, ec);
    char sink[4096];
    c->arm(std::chrono::milliseconds(500));
    co_await c->sock.async_read_some(asio::buffer(sink), asio::redirect_error(use_awaitable, ec));
    c->disarm();
    auto r = http::error_reply(503, why);
    // Spread like the asset pacing's (http/pacing.hpp): iPXE comes back after exactly this long.
    r.header("Retry-After", std::to_string(st.file_transfers.retry_after_seconds(
                                std::chrono::duration_cast<std::chrono::seconds>(limits().retry_after))));
    co_await write_reply(*c, r, false, 11);
    co_await linger_close(*c);
  }

  void spawn_reject(const std::shared_ptr<Conn>& conn, std::string why) {
    if (rejecting >= 64) return;  // conn goes out of scope: closed without a reply
    ++rejecting;
    asio::co_spawn(io, reject(conn, std::move(why)), [self = shared_from_this(), conn](const std::exception_ptr&) {
      conn->release();
      --self->rejecting;
    });
  }

  void spawn_session(const std::shared_ptr<Conn>& conn, const asio::ip::address& addr) {
    ++active;
    ++per_ip[addr];
    sessions.emplace(conn.get(), conn);
    st.counters.inc("http.connections");
    asio::co_spawn(io, session(conn), [self = shared_from_this(), conn, addr](const std::exception_ptr& e) {
      conn->release();
      --self->active;
      self->sessions.erase(conn.get());
      if (auto it = self->per_ip.find(addr); it != self->per_ip.end() && --it->second == 0) self->per_ip.erase(it);
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          self->st.counters.inc("http.error.internal");
          log::error("http.session_failed", {{"error", ex.what()}});
        }
      }
    });
  }

  // Takes every connection already queued on the listening socket per wake-up
  // (bounded), not one: in a boot storm the loop is busy with a thousand file
  // transfers, and one accept per turn of the loop left new machines' /ipxe
  // and config requests waiting seconds to be accepted (bench/storm: /ipxe p50
  // 11 s with 500 images in flight).
  awaitable<void> accept_loop() {
    auto self = shared_from_this();
    asio::steady_timer backoff(io);
    boost::system::error_code nb;
    acceptor.non_blocking(true, nb);
    while (!stopped) {
      boost::system::error_code ec;
      co_await acceptor.async_wait(tcp::acceptor::wait_read, asio::redirect_error(use_awaitable, ec));
      if (ec == asio::error::operation_aborted || stopped) co_return;
      for (int i = 0; !ec && i < kAcceptsPerTurn && !stopped; ++i) {
        tcp::socket sock(io);
        acceptor.accept(sock, ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again) break;
        if (ec) {
          // EMFILE and friends: count, back off briefly, keep serving.
          st.counters.inc("http.error.accept");
          log::warn("http.accept_failed", {{"error", ec.message()}});
          backoff.expires_after(std::chrono::milliseconds(50));
          co_await backoff.async_wait(asio::redirect_error(use_awaitable, ec));
          break;
        }
        admit(std::move(sock));
      }
    }
  }

  void admit(tcp::socket sock) {
    boost::system::error_code ec;
    const auto remote = sock.remote_endpoint(ec);
    if (ec) return;  // the client is already gone
    auto conn = std::make_shared<Conn>(std::move(sock));
    if (active >= limits().max_connections) {
      st.counters.inc("http.error.too_many_connections");
      spawn_reject(conn, "too many connections (limit " + std::to_string(limits().max_connections) + ")");
      return;
    }
    if (auto it = per_ip.find(remote.address()); it != per_ip.end() && it->second >= limits().max_connections_per_ip) {
      st.counters.inc("http.error.too_many_connections_per_ip");
      spawn_reject(conn, "too many connections from " + remote.address().to_string() + " (limit " +
                             std::to_string(limits().max_connections_per_ip) + ")");
      return;
    }
    spawn_session(conn, remote.address());
  }

  // --- timers of the core's upkeep ------------------------------------------

  void schedule(asio::steady_timer& timer, std::chrono::milliseconds every, void (*work)(http::ServiceState&)) {
    timer.expires_after(every);
    timer.async_wait([w = weak_from_this(), &timer, every, work](const boost::system::error_code& ec) {
      auto self = w.lock();
      if (!self || ec || self->stopped) return;
      work(self->st);
      self->schedule(timer, every, work);
    });
  }

  void start() {
    // sendfile(2) on a socket the peer closed raises SIGPIPE; a server must not die of it.
    std::signal(SIGPIPE, SIG_IGN);
    http::open_service_state(st);
    const auto& s = st.settings;
    start_identity_workers();

    boost::system::error_code ec;
    auto addr = asio::ip::make_address(s.bind_address, ec);
    if (ec) {
      throw std::system_error(std::make_error_code(std::errc::invalid_argument),
                              "http: bind address '" + s.bind_address + "' is not an IP address");
    }
    tcp::endpoint ep(addr, s.port);
    const std::string where = s.bind_address + ":" + std::to_string(s.port);
    acceptor.open(ep.protocol(), ec);
    if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor.bind(ep, ec);
    if (!ec) acceptor.listen(1024, ec);
    if (ec) throw std::system_error(ec, "http: cannot listen on " + where);
    log::info("http.listening", {{"address", where},
                                 {"assets", st.assets_root.empty() ? "-" : st.assets_root.string()},
                                 {"state", s.state_dir.empty() ? "-" : s.state_dir.string()}});

    asio::co_spawn(io, accept_loop(), asio::detached);
    schedule(flush_timer, std::chrono::milliseconds(500), &http::flush_store);
    if (!s.config_dir.empty()) schedule(reload_timer, s.reload_interval, &http::reload_inventory_if_changed);
  }

  void start_identity_workers() {
    const auto& s = st.settings;
    const std::size_t n = s.identity_workers.value_or(WorkPool::default_threads());
    if (n == 0) {
      log::info("http.identity_workers", {{"workers", 0}, {"mode", "inline on the event loop"}});
      return;
    }
    boot::IdentityIssuer::Options o;
    o.workers = n;
    o.max_queued = s.identity_queue;
    // Completions come back through the loop; asio::post is safe from any thread.
    identities = std::make_unique<boot::IdentityIssuer>(
        o, [&io = io](std::function<void()> f) { asio::post(io, std::move(f)); }, st.counters);
    st.identities = identities.get();
    log::info("http.identity_workers", {{"workers", n}, {"queue", s.identity_queue}});
  }

  void drain() {
    if (draining) return;
    draining = true;
    stopped = true;
    boost::system::error_code ec;
    acceptor.close(ec);
    for (auto& [raw, weak] : sessions) {
      auto c = weak.lock();
      if (c && c->between_requests) c->sock.cancel(ec);  // read_request sees the client gone
    }
    log::info("http.draining", {{"open_connections", active}});
  }

  void apply_live(const http::HttpSettings& s) {
    auto& mine = st.settings;
    const bool interval_changed = mine.reload_interval != s.reload_interval;
    http::take_live_settings(mine, s);
    if (interval_changed && !mine.config_dir.empty() && !stopped) {
      reload_timer.cancel();  // its handler sees operation_aborted and does not re-arm
      schedule(reload_timer, mine.reload_interval, &http::reload_inventory_if_changed);
    }
  }

  void stop() {
    stopped = true;
    boost::system::error_code ec;
    acceptor.close(ec);
    flush_timer.cancel();
    reload_timer.cancel();
    http::flush_store(st);
  }
};

HttpServer::HttpServer(boost::asio::io_context& io, http::HttpSettings settings)
    : impl_(std::make_shared<Impl>(io, std::move(settings))) {}

HttpServer::~HttpServer() { impl_->stop(); }

void HttpServer::start() { impl_->start(); }
void HttpServer::stop() { impl_->stop(); }

void HttpServer::drain() { impl_->drain(); }
std::size_t HttpServer::open_connections() const { return impl_->active; }
bool HttpServer::reload_config() {
  return http::reload_inventory(impl_->st, http::ReloadWhen::now) != http::ReloadOutcome::refused;
}
void HttpServer::apply_live_settings(const http::HttpSettings& settings) { impl_->apply_live(settings); }

std::uint16_t HttpServer::port() const {
  boost::system::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

const Counters& HttpServer::counters() const { return impl_->st.counters; }
void HttpServer::set_address_owners(const boot::AddressOwners* owners) { impl_->st.address_owners = owners; }
void HttpServer::set_etcd_membership(boot::EtcdMembership* etcd) { impl_->st.etcd = etcd; }
http::ServiceState& HttpServer::state() { return impl_->st; }
boost::asio::thread_pool& HttpServer::workers() { return impl_->workers; }

void HttpServer::attach_metrics(metrics::Registry& registry) {
  auto& st = impl_->st;
  st.metrics = &registry;
  for (std::size_t i = 0; i < http::kRouteLabels; ++i) {
    st.request_seconds[i] = &registry.histogram(
        "ramfleet_http_request_seconds", "HTTP requests: time from the request read to the reply written, by route.",
        metrics::buckets::transfer_seconds(),
        {{"route", std::string(http::to_string(static_cast<http::RouteLabel>(i)))}});
  }
  st.phases.attach(&registry.histogram_family("ramfleet_boot_phase_seconds",
                                              "Phases of machines' boots that reached ready, by profile: "
                                              "discover_to_ipxe, ipxe_to_kernel, kernel_to_config, config_to_ready.",
                                              {"profile", "phase"}, metrics::buckets::boot_seconds()),
                   &registry.histogram_family("ramfleet_boot_seconds",
                                              "Boots that reached ready, from their first milestone, by profile.",
                                              {"profile"}, metrics::buckets::boot_seconds()));
  st.loop_steps = &registry.histogram_family(
      "ramfleet_event_loop_step_seconds",
      "Time the HTTP service's event loop spent in one step of the boot layer (config.<step> of a config fetch, "
      "store.flush), by step: what holds every other request back while it runs.",
      {"step"}, metrics::buckets::fast_seconds());
  registry.add_collector([impl = impl_.get()](metrics::Exposition& out) {
    http::collect_http_metrics(impl->st, out);
    out.gauge("ramfleet_http_connections_open", "HTTP connections open.", {}, static_cast<double>(impl->active));
    if (impl->identities) {
      out.gauge("ramfleet_identity_issues_in_flight",
                "Node identities being issued or queued on the identity workers (at most workers + queue).", {},
                static_cast<double>(impl->identities->in_flight()));
    }
    out.gauge("ramfleet_http_file_transfers", "Asset replies being sent now (bounded by http.max_file_transfers).", {},
              static_cast<double>(impl->st.file_transfers.in_flight()));
  });
}

void HttpServer::note_boot_offer(const MacAddress& mac) {
  impl_->st.phases.discover(mac.str(), std::chrono::steady_clock::now());
  impl_->st.progress.dhcp_answered(mac.str(), http::now_ms());
}

void HttpServer::note_tftp(Ipv4 client, std::string_view what) {
  const auto* owners = impl_->st.address_owners;
  if (owners == nullptr || !owners->leases_known()) return;  // proxy DHCP: whose request it was is not known
  const auto mac = owners->holder_of(client);
  if (!mac) return;
  impl_->st.progress.tftp(mac->str(), client.str(), what, http::now_ms());
}

}  // namespace ramfleet::net
