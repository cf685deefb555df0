#pragma once
// The server's own view of a request and a reply, independent of Beast, so the
// handlers are plain functions that unit tests call without a socket.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "http/asset_response.hpp"

namespace ramfleet::http {

struct Request {
  std::string method;  // "GET", "HEAD", "POST" ...
  std::string target;  // raw origin-form target, still percent-encoded
  std::string host;
  std::optional<std::string> range, if_range, if_none_match, if_modified_since;
  std::string body;
  std::string peer;  // "127.0.0.1:53422", for logs
};

// An open file descriptor for a reply body; closed when the reply is done.
class FileHandle {
 public:
  explicit FileHandle(int fd) : fd_(fd) {}
  ~FileHandle();
  FileHandle(const FileHandle&) = delete;
  FileHandle& operator=(const FileHandle&) = delete;
  [[nodiscard]] int fd() const { return fd_; }

 private:
  int fd_;
};

struct Reply {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // text body (when file is null)
  // File body: pieces are text or file segments (see AssetPlan).
  std::shared_ptr<FileHandle> file;
  std::vector<BodyPiece> pieces;
  std::uint64_t content_length = 0;  // for file bodies (HEAD keeps it, pieces empty)
  bool close = false;                // close the connection after this reply
  // When set, the transport runs it on a worker thread, off the event loop,
  // and sends the reply it returns instead of this one: for reads that may
  // take a while (GET /api/v1/machines). It must not touch ServiceState.
  std::function<Reply()> offload;

  void header(std::string name, std::string value) { headers.emplace_back(std::move(name), std::move(value)); }
};

Reply text_reply(int status, std::string body, std::string content_type = "text/plain; charset=utf-8");
// {"error": message} with the status; every rejection the API makes looks like this.
Reply error_reply(int status, const std::string& message);

}  // namespace ramfleet::http
