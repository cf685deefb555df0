#pragma once
// The URLs stage 1 fetches: plain `http://A.B.C.D[:port]/path`. A node in
// its first stage has no resolver and no CA store, so names and https are
// refused here with a message that says so, rather than failing later.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ramfleet::stage1 {

struct HttpUrl {
  std::uint32_t address = 0;  // IPv4, host byte order
  std::uint16_t port = 80;
  std::string host;    // "10.99.0.1:8080" as the Host header wants it
  std::string target;  // "/assets/images/<id>/rootfs.cpio.zst" (starts with '/')
};

// nullopt + `error` for anything that is not such a URL.
std::optional<HttpUrl> parse_http_url(std::string_view url, std::string& error);

}  // namespace ramfleet::stage1
