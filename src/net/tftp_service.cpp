#include "net/tftp_service.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <system_error>
#include <utility>
#include <vector>

#include "core/counter_metrics.hpp"
#include "core/log.hpp"
#include "core/rate_limit.hpp"
#include "tftp/ack_poller.hpp"
#include "tftp/path_resolver.hpp"
#include "tftp/request.hpp"
#include "tftp/transfer.hpp"
#include "tftp/transfer_slots.hpp"

namespace ramfleet::net {

namespace asio = boost::asio;
using udp = asio::ip::udp;

namespace {

// Enough for the largest block (65464 + 4) and a request with many options.
constexpr std::size_t kListenerBuffer = 65536;
// Transfer sockets only expect ACK and ERROR packets; longer datagrams are truncated, which parses fine.
constexpr std::size_t kTransferBuffer = 2048;
// A stranger's datagram is only counted and answered; its content does not matter.
constexpr std::size_t kStrayBuffer = 4;
// How many queued requests the listener handles per wake-up before yielding to transfers.
constexpr int kRequestsPerWakeup = 64;
// Polling for ACKs (tftp::AckPoller) saves a wake-up per block when the server
// would otherwise idle between blocks; with more transfers than this at once
// it has other work between one client's ACKs anyway, so they all sleep.
constexpr std::size_t kMaxPollingTransfers = 16;

class PreadReader final : public tftp::FileReader {
 public:
  explicit PreadReader(int fd) : fd_(fd) {}
  // Blocks are served from a read-ahead buffer: a lock-step transfer then costs
  // one pread per 128 KiB instead of one per block, a syscall less per round
  // trip (recvfrom, sendto and epoll_wait remain).
  std::optional<std::size_t> read_at(std::uint64_t offset, std::span<std::uint8_t> out) override {
    if (offset < buffer_offset_ || offset + out.size() > buffer_offset_ + buffer_length_) {
      if (!fill(offset, std::max(out.size(), kReadAhead))) return std::nullopt;
    }
    const std::size_t skip = static_cast<std::size_t>(offset - buffer_offset_);
    const std::size_t count = std::min(out.size(), buffer_length_ - std::min(skip, buffer_length_));
    std::copy_n(buffer_.data() + skip, count, out.data());
    return count;
  }

 private:
  static constexpr std::size_t kReadAhead = std::size_t{128} * 1024;

  bool fill(std::uint64_t offset, std::size_t size) {
    buffer_.resize(size);
    std::size_t done = 0;
    while (done < size) {
      ssize_t n = ::pread(fd_, buffer_.data() + done, size - done, static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        buffer_length_ = 0;
        return false;
      }
      if (n == 0) break;
      done += static_cast<std::size_t>(n);
    }
    buffer_offset_ = offset;
    buffer_length_ = done;
    return true;
  }

  int fd_;
  std::vector<std::uint8_t> buffer_;
  std::uint64_t buffer_offset_ = 0;
  std::size_t buffer_length_ = 0;
};

class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  FileDescriptor& operator=(FileDescriptor&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~FileDescriptor() { reset(); }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  [[nodiscard]] int get() const { return fd_; }

 private:
  int fd_ = -1;
};

std::string endpoint_text(const udp::endpoint& e) { return e.address().to_string() + ":" + std::to_string(e.port()); }

std::string options_text(const std::vector<tftp::Option>& options) {
  std::string out;
  for (const auto& o : options) {
    if (!out.empty()) out += ',';
    out += o.name + "=" + o.value;
  }
  return out.empty() ? "-" : out;
}

// Best effort: a bigger buffer lets a whole window (e.g. 16 x 8192) sit in the
// kernel. SO_*BUFFORCE passes net.core.*mem_max when we have CAP_NET_ADMIN.
void set_buffer(int fd, int force_option, int option, int bytes) {
  if (::setsockopt(fd, SOL_SOCKET, force_option, &bytes, sizeof bytes) != 0) {
    ::setsockopt(fd, SOL_SOCKET, option, &bytes, sizeof bytes);
  }
}

// Each transfer holds three descriptors (file, socket, stray socket): raise
// the soft limit (often 1024) towards what max_transfers needs, within the hard limit.
void ensure_descriptors_for(std::size_t max_transfers) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  const rlim_t wanted = static_cast<rlim_t>(3 * max_transfers + 256);
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < wanted) {
    limit.rlim_cur = limit.rlim_max == RLIM_INFINITY ? wanted : std::min(wanted, limit.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < wanted) {
    log::warn("tftp.descriptor_limit", {{"limit", static_cast<std::uint64_t>(limit.rlim_cur)},
                                        {"wanted", static_cast<std::uint64_t>(wanted)},
                                        {"max_transfers", max_transfers}});
  }
}

struct OpenedFile {
  FileDescriptor fd;
  std::uint64_t size = 0;
};

}  // namespace

struct Session {
  Session(asio::io_context& io, tftp::AckPoller::Clock::duration poll_budget)
      : socket(io), stray_socket(io), timer(io), poller(poll_budget) {}
  std::uint64_t id = 0;
  // Connected to the client's endpoint: the kernel delivers only the client's
  // datagrams here, and send() skips the per-packet route lookup of sendto().
  udp::socket socket;
  // Bound to the same local address and port (SO_REUSEPORT, same user only):
  // gets the datagrams of every other endpoint, which are answered with ERROR 5.
  udp::socket stray_socket;
  asio::steady_timer timer;
  bool timer_armed = false;
  bool closed = false;
  FileDescriptor file;
  std::unique_ptr<PreadReader> reader;
  std::unique_ptr<tftp::Transfer> transfer;
  udp::endpoint client;
  std::array<std::uint8_t, kTransferBuffer> buffer{};
  udp::endpoint stray_sender;
  std::array<std::uint8_t, kStrayBuffer> stray_buffer{};
  tftp::AckPoller poller;
  tftp::TimePoint last_send;
  std::uint64_t answers_polled = 0;  // client datagrams picked up by polling
  std::uint64_t answers_waited = 0;  // ... and by sleeping until the kernel woke us
  std::string filename;
  std::uint64_t file_size = 0;
  tftp::TimePoint started;
};

struct TftpService::Impl : std::enable_shared_from_this<TftpService::Impl> {
  Impl(asio::io_context& io_context, Ipv4 bind, tftp::Settings s)
      : io(io_context),
        bind_address(bind),
        settings(std::move(s)),
        resolver(settings.roots.empty() ? std::vector<std::filesystem::path>{tftp::kIpxePackageDir} : settings.roots),
        listener(io_context),
        listen_buffer(kListenerBuffer),
        slots(settings.max_transfers, settings.max_transfers_per_client) {}

  asio::io_context& io;
  Ipv4 bind_address;
  tftp::Settings settings;
  tftp::PathResolver resolver;
  Counters counters;
  udp::socket listener;
  std::vector<std::uint8_t> listen_buffer;
  std::map<std::uint64_t, std::shared_ptr<Session>> sessions;
  tftp::TransferSlots slots;  // one per entry of sessions, counted per client IP
  // A flood of requests would log "busy" per packet: once per 10 s, with a count.
  LogThrottle<> busy_log{std::chrono::seconds(10)};
  std::function<void(Ipv4, std::string_view)> on_transfer;  // the boot report's hook
  void tell(const udp::endpoint& client, std::string_view what) {
    if (on_transfer) on_transfer(Ipv4{client.address().to_v4().to_uint()}, what);
  }
  std::uint64_t next_id = 1;
  // Per outcome (tftp::Outcome), resolved once: transfer time and bytes sent.
  static constexpr std::size_t kOutcomes = 5;
  std::array<metrics::Histogram*, kOutcomes> transfer_seconds{};
  std::array<metrics::Histogram*, kOutcomes> transfer_bytes{};

  void start();
  void wait_for_requests();
  void drain_requests();
  void on_request(ByteView datagram, const udp::endpoint& client, Ipv4 local);
  void reply_once(ByteView packet, const udp::endpoint& client, Ipv4 local);
  void refuse(tftp::ErrorCode code, const std::string& message, const udp::endpoint& client, Ipv4 local);
  std::optional<OpenedFile> open_file(const tftp::ResolvedPath& resolved, const udp::endpoint& client, Ipv4 local);
  bool open_transfer_sockets(Session& s, Ipv4 local, boost::system::error_code& ec);
  void execute(const std::shared_ptr<Session>& s, const tftp::Actions& actions);
  void on_datagram(const std::shared_ptr<Session>& s, std::size_t size, bool polled);
  void wait_for_client(const std::shared_ptr<Session>& s);
  void poll_client(const std::shared_ptr<Session>& s);
  void receive(const std::shared_ptr<Session>& s);
  void receive_strays(const std::shared_ptr<Session>& s);
  void arm_timer(const std::shared_ptr<Session>& s, tftp::TimePoint when);
  void finish(const std::shared_ptr<Session>& s, const tftp::Finished& finished);
  void shutdown();
};

void TftpService::Impl::start() {
  ensure_descriptors_for(settings.max_transfers);
  for (const auto& missing : resolver.missing_roots()) {
    log::warn("tftp.root.missing", {{"root", missing.string()}});
  }
  const udp::endpoint endpoint(asio::ip::address_v4(bind_address.value()), settings.port);
  const std::string where = "tftp: cannot listen on UDP " + endpoint_text(endpoint);
  boost::system::error_code ec;
  listener.open(udp::v4(), ec);
  if (ec) throw std::system_error(ec, where);
  int on = 1;
  // IP_PKTINFO tells which local address each request was sent to, so a
  // transfer socket can be bound to it even when we listen on 0.0.0.0.
  if (::setsockopt(listener.native_handle(), IPPROTO_IP, IP_PKTINFO, &on, sizeof on) != 0) {
    throw std::system_error(errno, std::generic_category(), where + " (IP_PKTINFO)");
  }
  listener.bind(endpoint, ec);
  if (ec) throw std::system_error(ec, where);
  set_buffer(listener.native_handle(), SO_RCVBUFFORCE, SO_RCVBUF, 1 << 20);
  log::info("tftp.listening", {{"address", endpoint_text(listener.local_endpoint())},
                               {"roots",
                                [&] {
                                  std::string r;
                                  for (const auto& p : resolver.roots()) r += (r.empty() ? "" : ":") + p.string();
                                  return r.empty() ? std::string("-") : r;
                                }()},
                               {"max_transfers", settings.max_transfers}});
  wait_for_requests();
}

void TftpService::Impl::wait_for_requests() {
  listener.async_wait(udp::socket::wait_read, [self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec) return;  // closed
    self->drain_requests();
    self->wait_for_requests();
  });
}

void TftpService::Impl::drain_requests() {
  for (int i = 0; i < kRequestsPerWakeup; ++i) {
    sockaddr_in from{};
    alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(in_pktinfo))> control{};
    iovec iov{listen_buffer.data(), listen_buffer.size()};
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    ssize_t n = ::recvmsg(listener.native_handle(), &msg, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        counters.inc("tftp.receive_error");
        log::warn("tftp.receive_error", {{"error", std::strerror(errno)}});
      }
      return;
    }
    if ((msg.msg_flags & MSG_TRUNC) != 0) {
      counters.inc("tftp.drop.oversized");
      continue;
    }
    Ipv4 local = bind_address;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
        in_pktinfo info{};
        std::memcpy(&info, CMSG_DATA(c), sizeof info);
        // ipi_spec_dst is the local address a reply should come from (for a
        // broadcast request, the receiving interface's address).
        local = Ipv4{ntohl(info.ipi_spec_dst.s_addr)};
      }
    }
    const udp::endpoint client(asio::ip::address_v4(ntohl(from.sin_addr.s_addr)), ntohs(from.sin_port));
    on_request(ByteView(listen_buffer.data(), static_cast<std::size_t>(n)), client, local);
  }
}

void TftpService::Impl::reply_once(ByteView packet, const udp::endpoint& client, Ipv4 local) {
  // Refusals come from a fresh port like a transfer would (RFC 1350: the
  // server's reply chooses its TID), from the address the client asked.
  boost::system::error_code ec;
  udp::socket socket(io);
  socket.open(udp::v4(), ec);
  if (!ec) socket.bind(udp::endpoint(asio::ip::address_v4(local.value()), 0), ec);
  if (!ec) socket.send_to(asio::buffer(packet.data(), packet.size()), client, 0, ec);
  if (ec) {
    counters.inc("tftp.send_error");
    log::warn("tftp.send_error", {{"client", endpoint_text(client)}, {"error", ec.message()}});
  }
}

void TftpService::Impl::refuse(tftp::ErrorCode code, const std::string& message, const udp::endpoint& client,
                               Ipv4 local) {
  counters.inc("tftp.error." + std::string(tftp::error_code_name(code)));
  auto packet = tftp::error_packet(code, message);
  reply_once(packet, client, local);
}

std::optional<OpenedFile> TftpService::Impl::open_file(const tftp::ResolvedPath& resolved, const udp::endpoint& client,
                                                       Ipv4 local) {
  // O_NOFOLLOW: the resolver saw no symlink in the final component; if one
  // appeared since, fail rather than follow it. O_NONBLOCK: a FIFO swapped in cannot hang us.
  int fd = ::open(resolved.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    int err = errno;
    log::info("tftp.refused",
              {{"client", endpoint_text(client)}, {"file", resolved.path.string()}, {"reason", std::strerror(err)}});
    if (err == ENOENT) {
      refuse(tftp::ErrorCode::file_not_found, "file not found", client, local);
    } else {
      refuse(tftp::ErrorCode::access_violation, "access violation", client, local);
    }
    return std::nullopt;
  }
  FileDescriptor guard(fd);
  struct stat st {};
  std::error_code ec;
  // Re-check what was really opened: a directory on the way may have been
  // swapped for a symlink between resolve and open.
  auto real = std::filesystem::read_symlink("/proc/self/fd/" + std::to_string(fd), ec);
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || ec || !tftp::PathResolver::is_inside(real, resolved.root)) {
    log::warn("tftp.refused", {{"client", endpoint_text(client)},
                               {"file", resolved.path.string()},
                               {"reason", "opened file is not a regular file inside the root"}});
    refuse(tftp::ErrorCode::access_violation, "access violation", client, local);
    return std::nullopt;
  }
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return OpenedFile{std::move(guard), static_cast<std::uint64_t>(st.st_size)};
}

void TftpService::Impl::on_request(ByteView datagram, const udp::endpoint& client, Ipv4 local) {
  auto decision = tftp::classify_request(datagram, counters);
  if (auto* rejection = std::get_if<tftp::Rejection>(&decision)) {
    log::info("tftp.request.rejected", {{"client", endpoint_text(client)}, {"reason", rejection->reason}});
    if (rejection->reply) reply_once(*rejection->reply, client, local);
    return;
  }
  auto& request = std::get<tftp::Request>(decision);
  log::debug("tftp.request", {{"client", endpoint_text(client)},
                              {"file", request.filename},
                              {"mode", tftp::mode_name(request.mode)},
                              {"options", options_text(request.options)}});
  const Ipv4 client_ip{client.address().to_v4().to_uint()};
  // The same request again from the same port while its transfer runs: the
  // client retransmitted before our first packet reached it (or it was lost,
  // and the transfer's own timer sends it again). A second transfer would be
  // an orphan the client never ACKs, holding a slot until it times out: in a
  // storm, with requests dropped and retransmitted, orphans took most slots.
  for (const auto& [id, other] : sessions) {
    if (other->client == client && other->filename == request.filename) {
      counters.inc("tftp.request.duplicate");
      return;
    }
  }
  // Every slot taken (or this address's share): the request is dropped,
  // unanswered. An ERROR packet would end the boot: PXE ROMs and OVMF's
  // Mtftp4 abort on one, while an RRQ with no answer is sent again after
  // their timeout (OVMF: every 4 s, 6 times), by when a slot has freed. So
  // busy costs a firmware a few seconds, not its boot (docs/scale.md,
  // "Admission control").
  if (sessions.size() >= settings.max_transfers) {
    counters.inc("tftp.busy");
    if (auto held_back = busy_log.admit(std::chrono::steady_clock::now()))
      log::warn("tftp.busy", {{"client", endpoint_text(client)},
                              {"active", sessions.size()},
                              {"effect", "dropped"},
                              {"suppressed", *held_back}});
    tell(client, "TFTP busy (every transfer slot taken): its request for " + request.filename +
                     " was dropped, the firmware sends it again");
    return;
  }
  if (slots.held_by(client_ip) >= settings.max_transfers_per_client) {
    counters.inc("tftp.busy.per_client");
    if (auto held_back = busy_log.admit(std::chrono::steady_clock::now()))
      log::warn("tftp.busy", {{"client", endpoint_text(client)},
                              {"client_transfers", slots.held_by(client_ip)},
                              {"effect", "dropped"},
                              {"suppressed", *held_back}});
    tell(client, "TFTP: its address holds max_transfers_per_client transfers: its request for " + request.filename +
                     " was dropped");
    return;
  }
  auto resolution = resolver.resolve(request.filename);
  if (auto* refusal = std::get_if<tftp::PathRefusal>(&resolution)) {
    log::info("tftp.refused", {{"client", endpoint_text(client)},
                               {"file", request.filename},
                               {"code", tftp::error_code_name(refusal->code)},
                               {"reason", refusal->reason}});
    refuse(refusal->code,
           refusal->code == tftp::ErrorCode::file_not_found ? std::string("file not found")
                                                            : "access violation: " + refusal->reason,
           client, local);
    tell(client, "TFTP refused " + request.filename + ": " + refusal->reason);
    return;
  }
  const auto& resolved = std::get<tftp::ResolvedPath>(resolution);
  auto opened = open_file(resolved, client, local);
  if (!opened) return;

  auto s = std::make_shared<Session>(io, settings.ack_poll_budget);
  const int fd = opened->fd.get();
  s->file = std::move(opened->fd);
  s->id = next_id++;
  s->client = client;
  s->filename = request.filename;
  s->file_size = opened->size;
  s->started = tftp::Clock::now();
  s->reader = std::make_unique<PreadReader>(fd);
  s->transfer = std::make_unique<tftp::Transfer>(request, opened->size, *s->reader, settings, counters);

  boost::system::error_code ec;
  if (!open_transfer_sockets(*s, local, ec)) {
    counters.inc("tftp.error.no_transfer_port");
    log::error("tftp.transfer_port", {{"client", endpoint_text(client)}, {"error", ec.message()}});
    reply_once(tftp::error_packet(tftp::ErrorCode::not_defined, "cannot allocate a transfer port"), client, local);
    return;
  }
  const auto& negotiated = s->transfer->negotiated();
  const int window_bytes = static_cast<int>(negotiated.windowsize) * (negotiated.blksize + 256) * 2;
  set_buffer(s->socket.native_handle(), SO_SNDBUFFORCE, SO_SNDBUF, std::max(window_bytes, 256 * 1024));
  set_buffer(s->socket.native_handle(), SO_RCVBUFFORCE, SO_RCVBUF, 256 * 1024);

  slots.acquire(client_ip);  // checked above; released in finish() and shutdown()
  sessions.emplace(s->id, s);
  counters.inc("tftp.transfer.started");
  tell(client, "fetching " + request.filename + " over TFTP");
  log::info("tftp.transfer.start", {{"id", s->id},
                                    {"client", endpoint_text(client)},
                                    {"file", request.filename},
                                    {"path", resolved.path.string()},
                                    {"size", opened->size},
                                    {"blksize", negotiated.blksize},
                                    {"windowsize", negotiated.windowsize},
                                    {"oack", options_text(negotiated.accepted)}});
  receive_strays(s);
  execute(s, s->transfer->start(tftp::Clock::now()));
  if (s->closed) return;
  s->transfer->produce_ahead();
  wait_for_client(s);
}

bool TftpService::Impl::open_transfer_sockets(Session& s, Ipv4 local, boost::system::error_code& ec) {
  // The port is chosen before SO_REUSEPORT is set, so no other transfer (and
  // no other user's socket) can share it; the stray socket then joins it.
  const int on = 1;
  s.socket.open(udp::v4(), ec);
  if (!ec) s.socket.bind(udp::endpoint(asio::ip::address_v4(local.value()), 0), ec);
  if (!ec && ::setsockopt(s.socket.native_handle(), SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) {
    ec.assign(errno, boost::system::system_category());
  }
  if (!ec) s.stray_socket.open(udp::v4(), ec);
  if (!ec && ::setsockopt(s.stray_socket.native_handle(), SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) {
    ec.assign(errno, boost::system::system_category());
  }
  if (!ec) s.stray_socket.bind(s.socket.local_endpoint(), ec);
  // Connected last: the kernel then prefers it for the client's datagrams
  // over the unconnected stray socket (a connected member of a reuseport
  // group is chosen by address, never by the group's hash).
  if (!ec) s.socket.connect(s.client, ec);
  return !ec;
}

void TftpService::Impl::execute(const std::shared_ptr<Session>& s, const tftp::Actions& actions) {
  for (ByteView packet : actions.send) {
    boost::system::error_code ec;
    s->socket.send(asio::buffer(packet.data(), packet.size()), 0, ec);
    if (ec) {
      // The retransmission timer recovers from a lost send.
      counters.inc("tftp.send_error");
      log::debug("tftp.send_error", {{"id", s->id}, {"error", ec.message()}});
    }
  }
  // Taken after the sends: sending a large block includes the client's
  // receive processing (veth), which is not the client's time to answer.
  if (!actions.send.empty()) s->last_send = tftp::Clock::now();
  if (actions.finished) {
    finish(s, *actions.finished);
    return;
  }
  if (actions.timer && (!s->timer_armed || *actions.timer < s->timer.expiry())) arm_timer(s, *actions.timer);
}

void TftpService::Impl::arm_timer(const std::shared_ptr<Session>& s, tftp::TimePoint when) {
  // A later deadline needs no re-arm: the timer fires early, the transfer
  // reports the deadline is not reached and asks for the timer again.
  s->timer_armed = true;
  s->timer.expires_at(when);
  s->timer.async_wait([self = shared_from_this(), s](const boost::system::error_code& ec) {
    if (ec || s->closed) return;
    s->timer_armed = false;
    self->execute(s, s->transfer->on_timer(tftp::Clock::now()));
    if (!s->closed) s->transfer->produce_ahead();
  });
}

void TftpService::Impl::on_datagram(const std::shared_ptr<Session>& s, std::size_t size, bool polled) {
  const auto now = tftp::Clock::now();
  s->poller.observe(now - s->last_send);
  ++(polled ? s->answers_polled : s->answers_waited);
  execute(s, s->transfer->on_packet(ByteView(s->buffer.data(), size), now));
  if (s->closed) return;
  // While the client handles what was just sent: read the block its ACK will release.
  s->transfer->produce_ahead();
  wait_for_client(s);
}

// Exactly one of these waits is pending per open session: a poll posted to
// the io_context, or an asynchronous receive.
void TftpService::Impl::wait_for_client(const std::shared_ptr<Session>& s) {
  if (sessions.size() <= kMaxPollingTransfers && s->poller.keep_polling(s->last_send, tftp::Clock::now())) {
    // Through the io_context, not a loop here: between two polls it runs
    // whatever else is ready (other transfers, requests, other services).
    asio::post(io, [self = shared_from_this(), s] { self->poll_client(s); });
  } else {
    receive(s);
  }
}

void TftpService::Impl::poll_client(const std::shared_ptr<Session>& s) {
  if (s->closed) return;
  const ssize_t n = ::recv(s->socket.native_handle(), s->buffer.data(), s->buffer.size(), MSG_DONTWAIT);
  if (n >= 0) {
    on_datagram(s, static_cast<std::size_t>(n), true);
    return;
  }
  if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    // E.g. ECONNREFUSED: an ICMP error for an earlier send; the timer covers a lost client.
    counters.inc("tftp.receive_error");
    log::debug("tftp.receive_error", {{"id", s->id}, {"error", std::strerror(errno)}});
  }
  wait_for_client(s);
}

void TftpService::Impl::receive(const std::shared_ptr<Session>& s) {
  s->socket.async_receive(asio::buffer(s->buffer),
                          [self = shared_from_this(), s](const boost::system::error_code& ec, std::size_t n) {
                            if (s->closed) return;
                            if (!ec) {
                              self->on_datagram(s, n, false);
                              return;
                            }
                            if (ec == asio::error::operation_aborted) return;
                            self->counters.inc("tftp.receive_error");
                            log::debug("tftp.receive_error", {{"id", s->id}, {"error", ec.message()}});
                            self->receive(s);
                          });
}

void TftpService::Impl::receive_strays(const std::shared_ptr<Session>& s) {
  s->stray_socket.async_receive_from(asio::buffer(s->stray_buffer), s->stray_sender,
                                     [self = shared_from_this(), s](const boost::system::error_code& ec, std::size_t) {
                                       if (s->closed || ec == asio::error::operation_aborted) return;
                                       if (!ec) {
                                         // RFC 1350: a packet from a stranger gets ERROR 5 and leaves the transfer
                                         // alone.
                                         self->counters.inc("tftp.error.unknown_transfer_id");
                                         static const Bytes packet = tftp::error_packet(
                                             tftp::ErrorCode::unknown_transfer_id, "unknown transfer ID");
                                         boost::system::error_code send_ec;
                                         s->stray_socket.send_to(asio::buffer(packet), s->stray_sender, 0, send_ec);
                                       }
                                       self->receive_strays(s);
                                     });
}

void TftpService::Impl::finish(const std::shared_ptr<Session>& s, const tftp::Finished& finished) {
  s->closed = true;
  boost::system::error_code ec;
  s->timer.cancel();
  s->socket.close(ec);
  s->stray_socket.close(ec);
  s->file.reset();
  const auto elapsed = std::chrono::duration<double>(tftp::Clock::now() - s->started).count();
  const auto bytes = s->transfer->payload_bytes_sent();
  counters.inc("tftp.bytes_sent", bytes);
  if (const auto o = static_cast<std::size_t>(finished.outcome); o < kOutcomes && transfer_seconds[o] != nullptr) {
    transfer_seconds[o]->observe(elapsed);
    transfer_bytes[o]->observe(static_cast<double>(bytes));
  }
  const auto level =
      finished.outcome == tftp::Outcome::completed || finished.outcome == tftp::Outcome::aborted_by_client
          ? log::Level::info
          : log::Level::warn;
  log::event(level, "tftp.transfer.end",
             {{"id", s->id},
              {"client", endpoint_text(s->client)},
              {"file", s->filename},
              {"outcome", tftp::outcome_name(finished.outcome)},
              {"reason", finished.reason},
              {"size", s->file_size},
              {"bytes_sent", bytes},
              {"retransmissions", s->transfer->retransmissions()},
              {"answers_polled", s->answers_polled},
              {"answers_waited", s->answers_waited},
              {"seconds", elapsed},
              {"mib_per_s", elapsed > 0 ? static_cast<double>(bytes) / elapsed / (1024.0 * 1024.0) : 0.0}});
  slots.release(Ipv4{s->client.address().to_v4().to_uint()});
  tell(s->client, finished.outcome == tftp::Outcome::completed
                      ? "fetched " + s->filename + " over TFTP"
                      : "TFTP transfer of " + s->filename + " ended " +
                            std::string(tftp::outcome_name(finished.outcome)) + ": " + finished.reason);
  sessions.erase(s->id);
}

void TftpService::Impl::shutdown() {
  boost::system::error_code ec;
  listener.close(ec);
  for (auto& [id, s] : sessions) {
    s->closed = true;
    s->timer.cancel();
    s->socket.close(ec);
    s->stray_socket.close(ec);
  }
  sessions.clear();
  slots = tftp::TransferSlots(settings.max_transfers, settings.max_transfers_per_client);
}

TftpService::TftpService(asio::io_context& io, Ipv4 bind_address, tftp::Settings settings)
    : impl_(std::make_shared<Impl>(io, bind_address, std::move(settings))) {}

TftpService::~TftpService() { impl_->shutdown(); }

void TftpService::start() { impl_->start(); }

void TftpService::stop_accepting() {
  boost::system::error_code ec;
  impl_->listener.close(ec);
  log::info("tftp.draining", {{"active_transfers", impl_->sessions.size()}});
}

const Counters& TftpService::counters() const { return impl_->counters; }

void TftpService::attach_metrics(metrics::Registry& registry) {
  using tftp::Outcome;
  for (auto o : {Outcome::completed, Outcome::timed_out, Outcome::aborted_by_client, Outcome::protocol_error,
                 Outcome::read_error}) {
    const auto i = static_cast<std::size_t>(o);
    const metrics::Labels labels{{"outcome", std::string(tftp::outcome_name(o))}};
    impl_->transfer_seconds[i] = &registry.histogram("ramfleet_tftp_transfer_seconds",
                                                     "TFTP transfers: time from the request to the end, by outcome.",
                                                     metrics::buckets::transfer_seconds(), labels);
    impl_->transfer_bytes[i] =
        &registry.histogram("ramfleet_tftp_transfer_bytes", "TFTP transfers: payload bytes sent, by outcome.",
                            metrics::buckets::bytes(), labels);
  }
  registry.add_collector([impl = impl_.get()](metrics::Exposition& out) {
    metrics::write_counters(out, impl->counters);
    out.gauge("ramfleet_tftp_transfers_active", "TFTP transfers in progress.", {},
              static_cast<double>(impl->sessions.size()));
  });
}

std::size_t TftpService::active_transfers() const { return impl_->sessions.size(); }
void TftpService::on_transfer(std::function<void(Ipv4, std::string_view)> hook) {
  impl_->on_transfer = std::move(hook);
}

std::uint16_t TftpService::port() const {
  boost::system::error_code ec;
  auto endpoint = impl_->listener.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

}  // namespace ramfleet::net
