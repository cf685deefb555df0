#pragma once
// The status line and headers of an HTTP/1.1 response, parsed as the bytes
// arrive (sans-IO: the fetcher's socket code feeds it). The server is not
// trusted to be sane: the head is bounded in bytes and header count, and
// what stage 1 needs (status, Content-Length, Content-Range,
// Transfer-Encoding) is checked for consistency.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/bytes.hpp"

namespace ramfleet::stage1 {

struct HttpResponseHead {
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::optional<std::uint64_t> content_length;
  bool chunked = false;
  // Content-Range: bytes FIRST-LAST/TOTAL (TOTAL may be '*': 0 here).
  std::optional<std::uint64_t> range_first, range_last, range_total;

  // The first header called `name` (lower case), or nullptr.
  [[nodiscard]] const std::string* header(std::string_view name) const;
};

class HttpResponseHeadParser {
 public:
  explicit HttpResponseHeadParser(std::size_t max_bytes = std::size_t{16} * 1024, std::size_t max_headers = 64)
      : max_bytes_(max_bytes), max_headers_(max_headers) {}

  // Consumes bytes up to and including the blank line that ends the head and
  // returns how many it took; the rest belongs to the body. Throws
  // std::runtime_error on a malformed or oversized head.
  std::size_t feed(ByteView data);
  [[nodiscard]] bool done() const { return done_; }
  [[nodiscard]] const HttpResponseHead& head() const { return head_; }

 private:
  void parse();

  std::size_t max_bytes_, max_headers_;
  std::string buf_;
  bool done_ = false;
  HttpResponseHead head_;
};

}  // namespace ramfleet::stage1
