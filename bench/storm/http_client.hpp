#pragma once
// One HTTP/1.1 request from the machine's leased address, on a connection of
// its own (as iPXE and busybox wget open one per file). Bodies of scripts and
// configs are kept; kernels and images are counted and dropped, read straight
// from the socket, so that a storm of 80 MB images costs the client little.
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "storm.hpp"

namespace storm {

struct HttpReply {
  int status = 0;  // 0: no answer (error says why)
  std::string error;
  std::string body;  // kept when asked for
  std::uint64_t bytes = 0;
  std::optional<std::uint64_t> content_length;
  // Retry-After in seconds, when the reply carried one (5 when it could not
  // be read as a number, as iPXE does).
  std::optional<unsigned> retry_after;
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::string body;           // POST
  std::string authorization;  // the whole header value
  bool keep_body = true;      // false: count the bytes only
};

boost::asio::awaitable<HttpReply> http_request(Storm& storm, const std::string& source, const HttpRequest& req);

}  // namespace storm
