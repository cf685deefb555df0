#include "net/tls_client.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>

#include "core/ipv4.hpp"

namespace ramfleet::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

std::optional<HttpsTarget> parse_https_url(std::string_view url) {
  if (!url.starts_with("https://")) return std::nullopt;
  url.remove_prefix(8);
  while (!url.empty() && url.back() == '/') url.remove_suffix(1);
  const auto colon = url.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const auto host = url.substr(0, colon);
  unsigned port = 0;
  const auto ps = url.substr(colon + 1);
  auto [p, ec] = std::from_chars(ps.data(), ps.data() + ps.size(), port);
  if (ec != std::errc{} || p != ps.data() + ps.size() || port == 0 || port > 65535) return std::nullopt;
  if (host == "localhost") return HttpsTarget{"127.0.0.1", static_cast<std::uint16_t>(port), "localhost"};
  const auto ip = Ipv4::parse(host);
  if (!ip) return std::nullopt;
  return HttpsTarget{ip->str(), static_cast<std::uint16_t>(port), ip->str()};
}

ssl::context make_tls_client_context(const std::filesystem::path& ca_file, const std::filesystem::path& cert,
                                     const std::filesystem::path& key) {
  ssl::context ctx{ssl::context::tls_client};
  ctx.set_options(ssl::context::no_sslv2 | ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  ctx.load_verify_file(ca_file.string());
  if (!cert.empty()) {
    ctx.use_certificate_chain_file(cert.string());
    ctx.use_private_key_file(key.string(), ssl::context::pem);
  }
  return ctx;
}

asio::awaitable<void> tls_connect(TlsStream& s, const HttpsTarget& t) {
  s.set_verify_mode(ssl::verify_peer);
  s.set_verify_callback(ssl::host_name_verification(t.verify_name));
  co_await beast::get_lowest_layer(s).async_connect(tcp::endpoint(asio::ip::make_address_v4(t.ip), t.port),
                                                    asio::use_awaitable);
  co_await s.async_handshake(ssl::stream_base::client, asio::use_awaitable);
}

}  // namespace ramfleet::net
