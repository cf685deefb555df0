#include "http/http_service.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <sys/socket.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cerrno>
#include <csignal>
#include <ctime>
#include <system_error>

#include "boot/node_config.hpp"
#include "core/log.hpp"
#include "http/router.hpp"
#include "inventory/loader.hpp"
#include "store/sqlite_machine_store.hpp"

namespace ramfleet::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;

namespace {

// A connection: the socket plus a deadline that cancels its pending I/O when it
// expires. Shared with the timer's handler so neither outlives the other.
//
// Arming is lazy, because it happens around every read of every request: arm()
// and disarm() only store the deadline; the timer is restarted only when the
// new deadline is earlier than the pending wait. When a wait ends before the
// deadline (the connection was re-armed later since), it waits again. A
// keep-alive connection thus costs one timer wait per idle_timeout, not two
// timer operations per request.
struct Conn : std::enable_shared_from_this<Conn> {
  explicit Conn(tcp::socket s) : sock(std::move(s)), timer(sock.get_executor()) {}
  tcp::socket sock;
  asio::steady_timer timer;
  bool timed_out = false;
  bool waiting = false;  // an async_wait is pending
  Clock::time_point deadline = Clock::time_point::max();
  std::string peer;

  void arm(std::chrono::milliseconds d) {
    timed_out = false;
    deadline = Clock::now() + d;
    if (waiting && timer.expiry() <= deadline) return;  // fires first, then re-checks
    timer.expires_at(deadline);                         // cancels the pending wait, if any
    wait();
  }
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

bool has_body(int status) { return status >= 200 && status != 204 && status != 304; }

// `body_room`: bytes the caller appends after the head (a text body), so the
// whole reply is built in one allocation and sent with one send(2).
std::string serialize_head(const Reply& r, std::uint64_t length, bool keep_alive, unsigned version,
                           std::size_t body_room = 0) {
  std::string h;
  h.reserve(256 + body_room);
  h += "HTTP/1.1 ";
  h += std::to_string(r.status);
  h += ' ';
  h += std::string_view(bhttp::obsolete_reason(static_cast<bhttp::status>(r.status)));
  h += "\r\nServer: ramfleet\r\nDate: ";
  h += http_date_now();
  h += "\r\n";
  for (const auto& [k, v] : r.headers) {
    h += k;
    h += ": ";
    h += v;
    h += "\r\n";
  }
  if (has_body(r.status)) {
    h += "Content-Length: ";
    h += std::to_string(length);
    h += "\r\n";
  }
  if (!keep_alive) {
    h += "Connection: close\r\n";
  } else if (version == 10) {
    h += "Connection: keep-alive\r\n";
  }
  h += "\r\n";
  return h;
}

}  // namespace

struct HttpService::Impl : std::enable_shared_from_this<HttpService::Impl> {
  Impl(asio::io_context& io_, HttpSettings s) : io(io_), acceptor(io_), flush_timer(io_), reload_timer(io_) {
    st.settings = std::move(s);
  }

  asio::io_context& io;
  ServiceState st;
  tcp::acceptor acceptor;
  asio::steady_timer flush_timer;
  asio::steady_timer reload_timer;
  std::string fingerprint;
  std::size_t active = 0;
  std::size_t rejecting = 0;
  bool stopped = false;
  // Runs Reply::offload work (slow reads) off the loop. Declared last, so it is
  // joined before the state its work reads (the store) is destroyed. One thread:
  // at most one such read at a time; the queue is bounded by max_connections.
  asio::thread_pool workers{1};

  const HttpLimits& limits() const { return st.settings.limits; }

  // --- writing ---------------------------------------------------------------

  // Sends all of `data`; MSG_MORE keeps a header in the same segment as the
  // file data sendfile(2) adds right after it.
  awaitable<bool> send_all(Conn& c, std::string_view data, bool more) {
    const int fd = c.sock.native_handle();
    while (!data.empty()) {
      ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | (more ? MSG_MORE : 0));
      if (n > 0) {
        data.remove_prefix(static_cast<std::size_t>(n));
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

  awaitable<bool> wait_writable(Conn& c) {
    boost::system::error_code ec;
    c.arm(limits().send_timeout);
    co_await c.sock.async_wait(tcp::socket::wait_write, asio::redirect_error(use_awaitable, ec));
    c.disarm();
    if (ec) {
      if (c.timed_out) st.counters.inc("http.error.send_timeout");
      co_return false;
    }
    co_return true;
  }

  awaitable<bool> send_file(Conn& c, int file_fd, std::uint64_t offset, std::uint64_t length) {
    const int fd = c.sock.native_handle();
    off_t off = static_cast<off_t>(offset);
    while (length > 0) {
      const std::size_t chunk = static_cast<std::size_t>(std::min<std::uint64_t>(length, 1U << 30));
      ssize_t n = ::sendfile(fd, file_fd, &off, chunk);
      if (n > 0) {
        length -= static_cast<std::uint64_t>(n);
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

  awaitable<bool> write_reply(Conn& c, const Reply& r, bool head, bool keep_alive, unsigned version) {
    if (!r.file) {
      const bool body = !head && has_body(r.status);
      std::string out = serialize_head(r, r.body.size(), keep_alive, version, body ? r.body.size() : 0);
      if (body) out += r.body;
      co_return co_await send_all(c, out, false);
    }
    const std::string h = serialize_head(r, r.content_length, keep_alive, version);
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
    while (drained < 256 * 1024) {
      auto n = co_await c.sock.async_read_some(asio::buffer(sink), asio::redirect_error(use_awaitable, ec));
      if (ec) break;
      drained += n;
    }
    c.disarm();
    c.sock.close(ec);
  }

  // --- reading ---------------------------------------------------------------

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
      // The parser is fed directly (not through http::async_read, whose
      // composed operation cost more than parsing): what is buffered first
      // (pipelined requests), then reads while it needs more. A kept-alive
      // connection may sit idle for idle_timeout (then closed silently); once
      // a request has started, all of it must arrive within request_timeout.
      bool started = buffer.size() > 0;
      bool read_failed = false;
      for (;;) {
        if (buffer.size() > 0) {
          const std::size_t used = parser.put(buffer.data(), ec);
          buffer.consume(used);
          if (ec == bhttp::error::need_more) {
            ec = {};
          } else if (ec || parser.is_done()) {
            break;
          } else if (used > 0 && buffer.size() > 0) {
            continue;
          }
        }
        c->arm(started ? limits().request_timeout : limits().idle_timeout);
        auto n = co_await c->sock.async_read_some(buffer.prepare(8192), asio::redirect_error(use_awaitable, ec));
        c->disarm();
        if (ec) {
          read_failed = true;
          break;
        }
        buffer.commit(n);
        started = true;
      }
      if (read_failed && !started) {  // between requests: the client left, or idle_timeout
        if (c->timed_out) st.counters.inc("http.conn.idle_closed");
        break;
      }
      if (ec) {
        Reply r;
        if (c->timed_out) {
          st.counters.inc("http.error.slow_client");
          r = error_reply(408,
                          "request not complete within " + std::to_string(limits().request_timeout.count()) + " ms");
        } else if (ec == bhttp::error::header_limit) {
          st.counters.inc("http.error.header_too_large");
          r = error_reply(431, "request header larger than " + std::to_string(limits().max_header_bytes) + " bytes");
        } else if (ec == bhttp::error::body_limit) {
          st.counters.inc("http.error.body_too_large");
          r = error_reply(413, "request body larger than " + std::to_string(limits().max_body_bytes) + " bytes");
        } else if (read_failed && (ec == asio::error::eof || ec == asio::error::connection_reset)) {
          st.counters.inc("http.conn.closed_mid_request");
          break;
        } else {
          st.counters.inc("http.error.bad_request");
          r = error_reply(400, "malformed HTTP request: " + ec.message());
        }
        log::warn("http.rejected", {{"peer", c->peer}, {"status", r.status}, {"error", ec.message()}});
        co_await write_reply(*c, r, false, false, 11);
        co_await linger_close(*c);
        co_return;
      }
      auto& msg = parser.get();
      Request req;
      req.method = std::string(msg.method_string());
      req.target = std::string(msg.target());
      req.peer = c->peer;
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
      req.body = std::move(msg.body());
      Reply reply;
      try {
        reply = route(st, req);
      } catch (const std::exception& e) {
        st.counters.inc("http.error.internal");
        log::error("http.internal_error", {{"target", boot::redact_boot_token(req.target)}, {"error", e.what()}});
        reply = error_reply(500, "internal error");
      }
      if (reply.offload) {
        try {
          reply = co_await asio::co_spawn(workers, run_offloaded(std::move(reply.offload)), use_awaitable);
        } catch (const std::exception& e) {
          st.counters.inc("http.error.internal");
          log::error("http.internal_error",
                     {{"target", boot::redact_boot_token(req.target)}, {"error", e.what()}});
          reply = error_reply(500, "internal error");
        }
      }
      if (reply.status >= 400) {
        log::debug("http.error_reply",
                   {{"peer", c->peer}, {"target", boot::redact_boot_token(req.target)}, {"status", reply.status}});
      }
      const bool keep = msg.keep_alive() && !reply.close;
      if (!co_await write_reply(*c, reply, req.method == "HEAD", keep, msg.version())) break;
      if (!keep) {
        co_await linger_close(*c);
        co_return;
      }
    }
    c->sock.close(ec);
  }

  // Over the connection limit: a short 503 and close, without holding a slot.
  awaitable<void> reject(std::shared_ptr<Conn> c) {
    boost::system::error_code ec;
    c->sock.non_blocking(true, ec);
    char sink[4096];
    c->arm(std::chrono::milliseconds(500));
    co_await c->sock.async_read_some(asio::buffer(sink), asio::redirect_error(use_awaitable, ec));
    c->disarm();
    auto r = error_reply(503, "too many connections (limit " + std::to_string(limits().max_connections) + ")");
    r.header("Retry-After", "1");
    co_await write_reply(*c, r, false, false, 11);
    co_await linger_close(*c);
  }

  awaitable<void> accept_loop() {
    auto self = shared_from_this();
    asio::steady_timer backoff(io);
    while (!stopped) {
      boost::system::error_code ec;
      tcp::socket sock = co_await acceptor.async_accept(asio::redirect_error(use_awaitable, ec));
      if (ec) {
        if (ec == asio::error::operation_aborted || stopped) co_return;
        // EMFILE and friends: count, back off briefly, keep serving.
        st.counters.inc("http.error.accept");
        log::warn("http.accept_failed", {{"error", ec.message()}});
        backoff.expires_after(std::chrono::milliseconds(50));
        co_await backoff.async_wait(asio::redirect_error(use_awaitable, ec));
        continue;
      }
      auto conn = std::make_shared<Conn>(std::move(sock));
      if (active >= limits().max_connections) {
        st.counters.inc("http.error.too_many_connections");
        if (rejecting >= 64) continue;  // conn goes out of scope: closed without a reply
        ++rejecting;
        asio::co_spawn(io, reject(conn), [self, conn](std::exception_ptr) {
          conn->release();
          --self->rejecting;
        });
        continue;
      }
      ++active;
      st.counters.inc("http.connections");
      asio::co_spawn(io, session(conn), [self, conn](std::exception_ptr e) {
        conn->release();
        --self->active;
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
  }

  // --- inventory and store upkeep -------------------------------------------

  void install(inventory::InventoryPtr inv) {
    st.inventory = std::move(inv);
    st.inventory_loaded_ms = now_ms();
    ++st.inventory_generation;
    st.last_reload_errors.clear();
    log::info("inventory.loaded", {{"generation", st.inventory_generation},
                                   {"profiles", st.inventory->profiles.size()},
                                   {"groups", st.inventory->groups.size()}});
  }

  void reload_tick() {
    const auto fp = inventory::inventory_fingerprint(st.settings.config_dir);
    if (fp != fingerprint) {
      fingerprint = fp;
      auto r = inventory::load_inventory(st.settings.config_dir);
      for (const auto& d : r.diagnostics)
        if (!d.is_error()) log::warn("inventory.warning", {{"diagnostic", d.str()}});
      if (r.inventory) {
        st.counters.inc("inventory.reload.accepted");
        install(std::move(r.inventory));
      } else {
        st.counters.inc("inventory.reload.refused");
        for (const auto& d : r.diagnostics)
          if (d.is_error()) log::error("inventory.refused", {{"diagnostic", d.str()}});
        log::error("inventory.kept", {{"generation", st.inventory_generation},
                                      {"why", "the edit has errors; the previous inventory keeps serving"}});
        st.last_reload_errors = std::move(r.diagnostics);
      }
    }
    reload_timer.expires_after(st.settings.reload_interval);
    reload_timer.async_wait([w = weak_from_this()](const boost::system::error_code& ec) {
      if (auto self = w.lock(); self && !ec && !self->stopped) self->reload_tick();
    });
  }

  void flush_tick() {
    if (st.store) {
      try {
        st.store->flush();
      } catch (const std::exception& e) {
        st.counters.inc("store.flush_failed");
        log::error("store.flush_failed", {{"error", e.what()}});
      }
    }
    flush_timer.expires_after(std::chrono::milliseconds(500));
    flush_timer.async_wait([w = weak_from_this()](const boost::system::error_code& ec) {
      if (auto self = w.lock(); self && !ec && !self->stopped) self->flush_tick();
    });
  }

  void start() {
    namespace fs = std::filesystem;
    // sendfile(2) on a socket the peer closed raises SIGPIPE; a server must not die of it.
    std::signal(SIGPIPE, SIG_IGN);
    auto& s = st.settings;
    auto fail = [](const std::string& what) {
      throw std::system_error(std::make_error_code(std::errc::invalid_argument), "http: " + what);
    };
    if (!s.config_dir.empty()) {
      Diagnostics diags;
      apply_http_file(s.config_dir, s, diags);
      auto r = inventory::load_inventory(s.config_dir);
      diags.insert(diags.end(), r.diagnostics.begin(), r.diagnostics.end());
      if (has_errors(diags)) {
        std::string msg = "the config has errors:";
        for (const auto& d : diags) msg += "\n  " + d.str();
        fail(msg);
      }
      fingerprint = inventory::inventory_fingerprint(s.config_dir);
      install(std::move(r.inventory));
    } else {
      st.inventory = std::make_shared<inventory::Inventory>();
    }
    fs::path assets = s.assets_dir.empty() && !s.config_dir.empty() ? s.config_dir / "assets" : s.assets_dir;
    std::error_code fec;
    if (!assets.empty() && fs::is_directory(assets, fec)) {
      st.assets_root = fs::canonical(assets, fec);
    } else if (!assets.empty()) {
      log::warn("http.no_assets", {{"dir", assets.string()}, {"effect", "/assets/ answers 404"}});
    }
    if (!s.state_dir.empty()) {
      fs::create_directories(s.state_dir, fec);
      try {
        st.store = store::SqliteMachineStore::open(s.state_dir);
      } catch (const std::exception& e) {
        fail(e.what());
      }
    }

    boost::system::error_code ec;
    auto addr = asio::ip::make_address(s.bind_address, ec);
    if (ec) fail("bind address '" + s.bind_address + "' is not an IP address");
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
    flush_tick();
    if (!s.config_dir.empty()) {
      reload_timer.expires_after(s.reload_interval);
      reload_timer.async_wait([w = weak_from_this()](const boost::system::error_code& e) {
        if (auto self = w.lock(); self && !e && !self->stopped) self->reload_tick();
      });
    }
  }

  void stop() {
    stopped = true;
    boost::system::error_code ec;
    acceptor.close(ec);
    flush_timer.cancel();
    reload_timer.cancel();
    if (st.store) {
      try {
        st.store->flush();
      } catch (const std::exception& e) {
        log::error("store.flush_failed", {{"error", e.what()}});
      }
    }
  }
};

HttpService::HttpService(boost::asio::io_context& io, HttpSettings settings)
    : impl_(std::make_shared<Impl>(io, std::move(settings))) {}

HttpService::~HttpService() { impl_->stop(); }

void HttpService::start() { impl_->start(); }
void HttpService::stop() { impl_->stop(); }

std::uint16_t HttpService::port() const {
  boost::system::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

const Counters& HttpService::counters() const { return impl_->st.counters; }

}  // namespace ramfleet::http
