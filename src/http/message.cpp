#include "http/message.hpp"

#include <unistd.h>

#include <nlohmann/json.hpp>

namespace ramfleet::http {

FileHandle::~FileHandle() {
  if (fd_ >= 0) ::close(fd_);
}

Method parse_method(std::string_view token) {
  // Methods are case-sensitive (RFC 9110 9.1).
  if (token == "GET") return Method::get;
  if (token == "HEAD") return Method::head;
  if (token == "POST") return Method::post;
  if (token == "PUT") return Method::put;  // the operator API's label write
  return Method::other;
}

std::string_view to_string(Method m) {
  switch (m) {
    case Method::get:
      return "GET";
    case Method::head:
      return "HEAD";
    case Method::post:
      return "POST";
    case Method::put:
      return "PUT";
    case Method::other:
      break;
  }
  return "OTHER";
}

void strip_body_for_head(Reply& r) {
  if (!r.file) r.content_length = r.body.size();
  r.body.clear();
  r.pieces.clear();
  r.headers_only = true;
}

Reply text_reply(int status, std::string body, std::string content_type) {
  Reply r;
  r.status = status;
  r.header("Content-Type", std::move(content_type));
  r.body = std::move(body);
  return r;
}

Reply error_reply(int status, const std::string& message) {
  // The message may quote client bytes (a decoded query value) that are not
  // UTF-8: replace them (U+FFFD) rather than throw, which turned a 400 into a
  // 500 (found by fuzz_http_target).
  return text_reply(
      status, nlohmann::json{{"error", message}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n",
      "application/json");
}

}  // namespace ramfleet::http
