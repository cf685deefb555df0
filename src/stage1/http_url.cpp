#include "stage1/http_url.hpp"

#include <charconv>

namespace ramfleet::stage1 {
namespace {

std::optional<std::uint32_t> parse_ipv4(std::string_view s) {
  std::uint32_t out = 0;
  for (int i = 0; i < 4; ++i) {
    if (i > 0) {
      if (s.empty() || s.front() != '.') return std::nullopt;
      s.remove_prefix(1);
    }
    unsigned v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    std::size_t used = static_cast<std::size_t>(p - s.data());
    if (ec != std::errc{} || used == 0 || used > 3 || v > 255) return std::nullopt;
    out = (out << 8) | v;
    s.remove_prefix(used);
  }
  if (!s.empty()) return std::nullopt;
  return out;
}

}  // namespace

std::optional<HttpUrl> parse_http_url(std::string_view url, std::string& error) {
  constexpr std::string_view scheme = "http://";
  if (url.substr(0, 8) == "https://") {
    error = "https is not supported in stage 1 (the root image is verified by its sha256 instead): " + std::string(url);
    return std::nullopt;
  }
  if (url.substr(0, scheme.size()) != scheme) {
    error = "not an http:// URL: " + std::string(url);
    return std::nullopt;
  }
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      error = "URL contains a space or control character";
      return std::nullopt;
    }
  }
  std::string_view rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  HttpUrl out;
  out.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  auto hash = out.target.find('#');
  if (hash != std::string::npos) out.target.resize(hash);
  std::string_view host = authority;
  if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    std::string_view port = authority.substr(colon + 1);
    unsigned v = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
    if (ec != std::errc{} || p != port.data() + port.size() || v == 0 || v > 65535) {
      error = "bad port in URL: " + std::string(url);
      return std::nullopt;
    }
    out.port = static_cast<std::uint16_t>(v);
  }
  auto addr = parse_ipv4(host);
  if (!addr) {
    error = "the URL's host must be an IPv4 address (stage 1 has no resolver): " + std::string(url);
    return std::nullopt;
  }
  out.address = *addr;
  out.host = std::string(authority);
  return out;
}

}  // namespace ramfleet::stage1
