#include "stage1/fetcher/http_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "stage1/http_url.hpp"

namespace ramfleet::stage1 {
namespace {

using Kind = HttpError::Kind;

class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  [[nodiscard]] int fd() const { return fd_; }

 private:
  int fd_;
};

std::string errno_text(int err) { return std::strerror(err); }

// Waits until `fd` is ready for `events`; false on timeout.
bool wait_for(int fd, short events, std::chrono::milliseconds timeout) {
  pollfd p{fd, events, 0};
  for (;;) {
    int r = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
}

void connect_to(const Socket& s, const HttpUrl& url, const HttpRequest& req, const std::string& where) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(url.port);
  sa.sin_addr.s_addr = htonl(url.address);
  if (::connect(s.fd(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == 0) return;
  if (errno != EINPROGRESS)
    throw HttpError(Kind::connect, false, "cannot connect to " + where + ": " + errno_text(errno));
  if (!wait_for(s.fd(), POLLOUT, req.connect_timeout))
    throw HttpError(
        Kind::connect_timeout, false,
        "cannot connect to " + where + ": no answer within " + std::to_string(req.connect_timeout.count()) + " ms");
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(s.fd(), SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) throw HttpError(Kind::connect, false, "cannot connect to " + where + ": " + errno_text(err));
}

void send_all(const Socket& s, std::string_view data, const HttpRequest& req, const std::string& where) {
  while (!data.empty()) {
    if (!wait_for(s.fd(), POLLOUT, req.io_timeout))
      throw HttpError(Kind::timeout, false, "sending to " + where + " timed out");
    ssize_t n = ::send(s.fd(), data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      throw HttpError(Kind::io, false, "sending to " + where + " failed: " + errno_text(errno));
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

// One read: the bytes, 0 at the end of the stream. Throws on timeout/errors.
std::size_t receive(const Socket& s, std::uint8_t* buf, std::size_t size, const HttpRequest& req,
                    const std::string& where, bool body_started) {
  for (;;) {
    if (!wait_for(s.fd(), POLLIN, req.io_timeout))
      throw HttpError(Kind::timeout, body_started,
                      "no data from " + where + " for " + std::to_string(req.io_timeout.count()) + " ms");
    ssize_t n = ::recv(s.fd(), buf, size, 0);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno == EINTR || errno == EAGAIN) continue;
    throw HttpError(Kind::io, body_started, "receiving from " + where + " failed: " + errno_text(errno));
  }
}

std::string request_text(const HttpRequest& req, const HttpUrl& url) {
  std::string out = req.method + " " + url.target + " HTTP/1.1\r\nHost: " + url.host +
                    "\r\nUser-Agent: ramfleet-stage1\r\nConnection: close\r\nAccept-Encoding: identity\r\n";
  if (req.range)
    out += "Range: bytes=" + std::to_string(req.range->first) + "-" + std::to_string(req.range->last) + "\r\n";
  for (const auto& [k, v] : req.headers) out += k + ": " + v + "\r\n";
  if (!req.body.empty() || req.method == "POST" || req.method == "PUT")
    out += "Content-Length: " + std::to_string(req.body.size()) + "\r\n";
  out += "\r\n";
  out += req.body;
  return out;
}

}  // namespace

HttpResponse http_fetch(const HttpRequest& req, const BodySink& on_body) {
  std::string error;
  auto url = parse_http_url(req.url, error);
  if (!url) throw HttpError(Kind::bad_url, false, error);
  for (const auto& [k, v] : req.headers)
    if (k.find_first_of("\r\n:") != std::string::npos || v.find_first_of("\r\n") != std::string::npos)
      throw HttpError(Kind::bad_url, false, "header " + k + " contains a line break");
  const std::string where = url->host;

  Socket s(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (s.fd() < 0) throw HttpError(Kind::connect, false, "socket: " + errno_text(errno));
  connect_to(s, *url, req, where);
  send_all(s, request_text(req, *url), req, where);

  HttpResponse resp;
  HttpResponseHeadParser parser(req.max_head_bytes);
  std::vector<std::uint8_t> buf(std::size_t{64} * 1024);
  bool ok = false;             // a 2xx whose body goes to on_body
  bool started = false;        // some body byte reached on_body
  std::uint64_t expected = 0;  // body bytes announced, when known
  bool known_length = false;

  auto deliver = [&](ByteView piece) {
    if (piece.empty()) return;
    if (known_length && resp.body_bytes + piece.size() > expected) piece = piece.first(expected - resp.body_bytes);
    resp.body_bytes += piece.size();
    if (ok) {
      started = true;
      on_body(piece);
    } else if (resp.error_body.size() < req.max_error_body) {
      auto keep = std::min(piece.size(), req.max_error_body - resp.error_body.size());
      resp.error_body.append(as_text(piece.first(keep)));
    }
  };

  for (;;) {
    std::size_t n = receive(s, buf.data(), buf.size(), req, where, started);
    if (n == 0) {
      if (!parser.done())
        throw HttpError(Kind::protocol, false, where + " closed the connection before a complete response head");
      break;
    }
    ByteView data(buf.data(), n);
    if (!parser.done()) {
      std::size_t used = 0;
      try {
        used = parser.feed(data);
      } catch (const std::runtime_error& e) {
        throw HttpError(Kind::protocol, false, where + ": " + e.what());
      }
      if (!parser.done()) continue;
      data = data.subspan(used);
      resp.head = parser.head();
      const auto& h = resp.head;
      if (h.status >= 100 && h.status < 200)
        throw HttpError(Kind::protocol, false, where + " sent an interim " + std::to_string(h.status) + " response");
      if (h.chunked) throw HttpError(Kind::protocol, false, where + " sent a chunked response (not supported)");
      ok = h.status >= 200 && h.status < 300;
      if (ok && req.range) {
        const auto& r = *req.range;
        if (h.status != 206 || h.range_first != r.first || h.range_last != r.last)
          throw HttpError(Kind::protocol, false,
                          where + " did not honour the Range " + std::to_string(r.first) + "-" +
                              std::to_string(r.last) + " (status " + std::to_string(h.status) + ")");
      }
      if (req.method == "HEAD" || h.status == 204 || h.status == 304) {
        known_length = true;
        expected = 0;
      } else if (h.content_length) {
        known_length = true;
        expected = *h.content_length;
      }
      if (ok && req.range && known_length && expected != req.range->last - req.range->first + 1)
        throw HttpError(Kind::protocol, false, where + " answered the Range with a body of the wrong length");
    }
    deliver(data);
    if (known_length && resp.body_bytes >= expected) break;
  }
  if (known_length && resp.body_bytes < expected)
    throw HttpError(Kind::truncated, started,
                    where + " closed the connection after " + std::to_string(resp.body_bytes) + " of " +
                        std::to_string(expected) + " body bytes");
  return resp;
}

}  // namespace ramfleet::stage1
