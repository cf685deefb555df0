#pragma once
// What the HTTPS clients share (net/etcd_client, net/api_client): the URL
// they accept, a client TLS context (TLS 1.2+, the server verified against a
// CA file) and the verified connect. Asio/Beast types: include only from .cpp
// files in src/net.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace ramfleet::net {

struct HttpsTarget {
  std::string ip;  // IPv4 dialled
  std::uint16_t port = 0;
  std::string verify_name;  // what the server's certificate must name: the IP, or "localhost"
  // "ip:port" or "localhost:port", for the Host header.
  [[nodiscard]] std::string host_header() const { return verify_name + ":" + std::to_string(port); }
};

// "https://IPv4:PORT" or "https://localhost:PORT" (a trailing "/" allowed);
// nullopt otherwise.
std::optional<HttpsTarget> parse_https_url(std::string_view url);

// A client context that verifies servers against ca_file and, when cert is
// given, presents it. Throws boost::system::system_error on unreadable files.
boost::asio::ssl::context make_tls_client_context(const std::filesystem::path& ca_file,
                                                  const std::filesystem::path& cert = {},
                                                  const std::filesystem::path& key = {});

using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

// Connects and handshakes, verifying the server names t.verify_name; throws
// boost::system::system_error. The caller sets the stream's deadline.
boost::asio::awaitable<void> tls_connect(TlsStream& s, const HttpsTarget& t);

}  // namespace ramfleet::net
