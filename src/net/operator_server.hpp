#pragma once
// The operator listener (docs/operations.md, "Exposure and credentials"):
// HTTPS (TLS 1.2+) for people and tools, on the same io_context and the same
// http::ServiceState as the boot listener (net/http_server). Every request is
// authenticated here (auth/authenticator.hpp: a bearer token, or a client
// certificate signed by the operator CA) and then routed by
// http::route_operator, which refuses what the caller may not do.
//
// start() makes what is missing in STATE/api/: the operator CA, the server
// certificate (unless api.tls_cert is given) and, on the first start, the
// bootstrap admin token STATE/api/admin.token (0600, name local-admin).
//
// Bounded like the boot listener: connections in all and per address, header
// and body sizes, a deadline for the TLS handshake and each request, an idle
// deadline between requests, and one for every write.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "http/api_settings.hpp"

namespace boost::asio {
class io_context;
}

namespace ramfleet::net {

class HttpServer;

class OperatorServer {
 public:
  // http must outlive this.
  OperatorServer(boost::asio::io_context& io, HttpServer& http, http::ApiSettings settings,
                 std::filesystem::path state_dir);
  ~OperatorServer();
  OperatorServer(const OperatorServer&) = delete;
  OperatorServer& operator=(const OperatorServer&) = delete;

  // Credentials and certificates, then bind; throws std::system_error or
  // std::runtime_error naming what failed.
  void start();
  void stop();
  // Shutting down gracefully (like HttpServer::drain): stops accepting,
  // closes connections waiting for their next request and event streams;
  // a request being answered gets its reply with `Connection: close`.
  void drain();
  [[nodiscard]] std::size_t open_connections() const;

  [[nodiscard]] std::uint16_t port() const;
  // "https://127.0.0.1:9443", for logs and the boot listener's 403.
  [[nodiscard]] std::string url() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace ramfleet::net
