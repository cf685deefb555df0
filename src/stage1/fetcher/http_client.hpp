#pragma once
// A small blocking HTTP/1.1 client for stage 1: one request per connection
// (Connection: close), plain TCP to an IPv4 address, every wait bounded by a
// timeout, the response head bounded in size, the body handed to a callback
// as it arrives (never buffered whole). Used for the root image (GET, with an
// optional byte Range) and by the peer-to-peer code for chunks and the
// tracker (POST with a small body).
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/bytes.hpp"
#include "stage1/http_response_head.hpp"

namespace ramfleet::stage1 {

struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // inclusive, as in "Range: bytes=first-last"
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;  // http://A.B.C.D[:port]/path
  std::optional<ByteRange> range;
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. {"Authorization", "Bearer ..."}
  std::string body;                                          // sent with Content-Length when non-empty or POST
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds io_timeout{20000};  // longest silence while sending or receiving
  std::size_t max_head_bytes = std::size_t{16} * 1024;
  std::size_t max_error_body = 512;  // bytes of a non-2xx body kept for the message
};

struct HttpResponse {
  HttpResponseHead head;
  std::uint64_t body_bytes = 0;  // delivered to the callback (2xx) or kept in error_body
  std::string error_body;        // the start of a non-2xx body
  [[nodiscard]] int status() const { return head.status; }
};

// Why a request failed. `body_started` says whether any body byte reached the
// callback: before that a retry is harmless, after it the caller's sink holds
// part of a body.
class HttpError : public std::runtime_error {
 public:
  // connect_timeout: no answer to the connection attempt at all (the p2p
  // fetcher tells a swamped peer from one that refused or broke off).
  enum class Kind { bad_url, connect, connect_timeout, timeout, io, protocol, truncated };
  HttpError(Kind kind, bool body_started, const std::string& what)
      : std::runtime_error(what), kind_(kind), body_started_(body_started) {}
  [[nodiscard]] Kind kind() const { return kind_; }
  [[nodiscard]] bool body_started() const { return body_started_; }

 private:
  Kind kind_;
  bool body_started_;
};

// Receives the body of a 2xx response in pieces, in order. An exception it
// throws aborts the transfer and propagates unchanged.
using BodySink = std::function<void(ByteView)>;

// Sends the request and reads the response. A 2xx body goes to `on_body`
// (with a Range request, only a 206 whose Content-Range matches counts as
// 2xx: a server ignoring the Range would hand over the wrong bytes); any
// other status returns with the start of its body in error_body. Throws
// HttpError on connection failures, timeouts, malformed or short responses.
HttpResponse http_fetch(const HttpRequest& request, const BodySink& on_body);

}  // namespace ramfleet::stage1
