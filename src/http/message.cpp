#include "http/message.hpp"

#include <unistd.h>

#include <nlohmann/json.hpp>

namespace ramfleet::http {

FileHandle::~FileHandle() {
  if (fd_ >= 0) ::close(fd_);
}

Reply text_reply(int status, std::string body, std::string content_type) {
  Reply r;
  r.status = status;
  r.header("Content-Type", std::move(content_type));
  r.body = std::move(body);
  return r;
}

Reply error_reply(int status, const std::string& message) {
  return text_reply(status, nlohmann::json{{"error", message}}.dump() + "\n", "application/json");
}

}  // namespace ramfleet::http
