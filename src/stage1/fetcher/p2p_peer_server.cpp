#include "stage1/fetcher/p2p_peer_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string_view>

namespace ramfleet::stage1 {
namespace {

constexpr std::size_t kMaxHead = 2048;

void set_timeouts(int fd, std::chrono::milliseconds t) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(t.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((t.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const auto n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void reply(int fd, int status, const char* reason, std::string_view body = {}) {
  std::string head = "HTTP/1.1 " + std::to_string(status) + " " + reason +
                     "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n";
  if (status == 200) head += "Content-Type: application/octet-stream\r\n";
  head += "\r\n";
  if (send_all(fd, head)) send_all(fd, body);
}

// Closes after a reply without losing it: closing a socket whose receive
// queue still holds bytes (a request we refused unread, the rest of an
// oversized head) sends a TCP reset, and a reset can reach the client before
// it has read our answer, so a "503 busy" would look like a peer that broke,
// which the fetcher never asks again. So: send FIN, read and discard what the
// client still sends until it closes too, bounded in bytes and time.
void close_after_reply(int fd, std::chrono::milliseconds linger) {
  ::shutdown(fd, SHUT_WR);
  const auto until = std::chrono::steady_clock::now() + linger;
  char sink[4096];
  for (std::size_t drained = 0; drained < 64 * 1024;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now()).count();
    if (left <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) break;
    const auto n = ::recv(fd, sink, sizeof sink, MSG_DONTWAIT);
    if (n <= 0) break;  // the client closed (or failed): nothing left to reset
    drained += static_cast<std::size_t>(n);
  }
  ::close(fd);
}

// "GET /p2p/v1/<image>/<index> HTTP/1.x": the index, or -1 for another image,
// or -2 for anything that is not such a request.
long parse_request_line(std::string_view line, const std::string& image) {
  if (!line.starts_with("GET ")) return -2;
  line.remove_prefix(4);
  const auto sp = line.find(' ');
  if (sp == std::string_view::npos || !line.substr(sp + 1).starts_with("HTTP/1.")) return -2;
  auto path = line.substr(0, sp);
  constexpr std::string_view prefix = "/p2p/v1/";
  if (!path.starts_with(prefix)) return -2;
  path.remove_prefix(prefix.size());
  const auto slash = path.find('/');
  if (slash == std::string_view::npos) return -2;
  const auto index = path.substr(slash + 1);
  if (index.empty() || index.size() > 6) return -2;
  long n = 0;
  for (char c : index) {
    if (c < '0' || c > '9') return -2;
    n = n * 10 + (c - '0');
  }
  return path.substr(0, slash) == image ? n : -1;
}

}  // namespace

PeerServer::PeerServer(std::uint16_t port, std::string image_id, ChunkLookup lookup, unsigned max_connections,
                       std::chrono::milliseconds io_timeout)
    : image_id_(std::move(image_id)),
      lookup_(std::move(lookup)),
      max_connections_(max_connections == 0 ? 1 : max_connections),
      io_timeout_(io_timeout) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listen_fd_, 512) != 0) {
    const std::string why = std::strerror(errno);
    ::close(listen_fd_);
    throw std::runtime_error("cannot listen on port " + std::to_string(port) + ": " + why);
  }
}

PeerServer::~PeerServer() {
  stop();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

void PeerServer::start() {
  if (acceptor_.joinable()) return;
  stopping_ = false;
  acceptor_ = std::thread([this] { accept_loop(); });
}

void PeerServer::stop() {
  stopping_ = true;
  if (acceptor_.joinable()) acceptor_.join();
  // Connections end within io_timeout each; a bounded wait for them.
  for (int i = 0; active_ > 0 && i < 1000; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

void PeerServer::accept_loop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    set_timeouts(fd, io_timeout_);
    if (active_ >= max_connections_) {
      ++stats_.busy;
      reply(fd, 503, "Busy");
      // Short: this runs on the accept thread (a hostile client can only
      // slow this node's answers to others, never hold a slot).
      close_after_reply(fd, std::chrono::milliseconds(100));
      continue;
    }
    ++active_;
    std::thread([this, fd] {
      if (serve(fd))
        close_after_reply(fd, io_timeout_);
      else
        ::close(fd);
      --active_;
    }).detach();
  }
}

bool PeerServer::serve(int fd) {
  std::string head;
  char buf[512];
  while (head.find("\r\n\r\n") == std::string::npos) {
    if (head.size() > kMaxHead) {
      ++stats_.bad;
      reply(fd, 400, "Bad Request");
      return true;
    }
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;  // closed or timed out before a whole request
    head.append(buf, static_cast<std::size_t>(n));
  }
  const auto index = parse_request_line(std::string_view(head).substr(0, head.find("\r\n")), image_id_);
  if (index == -2) {
    ++stats_.bad;
    reply(fd, 400, "Bad Request");
    return true;
  }
  auto chunk = index >= 0 ? lookup_(static_cast<std::uint32_t>(index)) : nullptr;
  if (!chunk) {
    ++stats_.not_held;
    reply(fd, 404, "Not Held");
    return true;
  }
  ++stats_.served;
  stats_.bytes += chunk->size();
  reply(fd, 200, "OK", *chunk);
  return true;
}

}  // namespace ramfleet::stage1
