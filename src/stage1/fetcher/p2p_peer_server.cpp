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
      ::close(fd);
      continue;
    }
    ++active_;
    std::thread([this, fd] {
      serve(fd);
      ::close(fd);
      --active_;
    }).detach();
  }
}

void PeerServer::serve(int fd) {
  std::string head;
  char buf[512];
  while (head.find("\r\n\r\n") == std::string::npos) {
    if (head.size() > kMaxHead) {
      ++stats_.bad;
      return reply(fd, 400, "Bad Request");
    }
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // closed or timed out before a whole request
    head.append(buf, static_cast<std::size_t>(n));
  }
  const auto index = parse_request_line(std::string_view(head).substr(0, head.find("\r\n")), image_id_);
  if (index == -2) {
    ++stats_.bad;
    return reply(fd, 400, "Bad Request");
  }
  auto chunk = index >= 0 ? lookup_(static_cast<std::uint32_t>(index)) : nullptr;
  if (!chunk) {
    ++stats_.not_held;
    return reply(fd, 404, "Not Held");
  }
  ++stats_.served;
  stats_.bytes += chunk->size();
  reply(fd, 200, "OK", *chunk);
}

}  // namespace ramfleet::stage1
