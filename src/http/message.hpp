#pragma once
// The server's own view of a request and a reply, independent of Beast, so the
// handlers are plain functions that unit tests call without a socket.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/asset_response.hpp"
#include "http/operator.hpp"

namespace ramfleet::http {

class ReplyStream;

// The methods the server answers; anything else is `other` (405 where routed).
enum class Method { get, head, post, put, other };

Method parse_method(std::string_view token);
std::string_view to_string(Method m);

struct Request {
  Method method = Method::get;
  std::string target;  // raw origin-form target, still percent-encoded
  std::string host;
  std::optional<std::string> range, if_range, if_none_match, if_modified_since;
  std::string body;
  std::string peer;                          // "127.0.0.1:53422", for logs
  std::optional<std::string> authorization;  // the Authorization header, as sent
  std::optional<std::string> last_event_id;  // Last-Event-ID: where an event stream resumes
  // Set by the operator listener once the caller is authenticated (operator.hpp);
  // empty on the boot listener, where operator routes are refused.
  std::optional<Operator> caller;

  // GET or HEAD: a read. HEAD must not change state that GET would (a handler
  // that spends a boot token checks `method == Method::head` first).
  [[nodiscard]] bool is_read() const { return method == Method::get || method == Method::head; }
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

struct Reply;

// A reply that waits on the loop for work done elsewhere (a node identity
// being issued on a worker, boot/identity_issuer.hpp) instead of holding the
// loop: the transport calls wait() with a wake function, keeps the
// connection, and once woken (on the loop) sends what resume() returns; if
// nothing wakes it within `timeout` it sends the Reply that carried this (a
// 503 with Retry-After). Only the boot listener's transport waits; another
// sends that Reply at once.
struct DeferredReply {
  std::function<void(std::function<void()> wake)> wait;  // called once, on the loop; wake on the loop
  std::function<Reply()> resume;                         // on the loop, after wake
  std::chrono::milliseconds timeout{20000};
};

struct Reply {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // text body (when file is null)
  // File body: pieces are text or file segments (see AssetPlan).
  std::shared_ptr<FileHandle> file;
  // Whatever the reply holds until it is written (a TransferSlot, pacing.hpp):
  // released when the transport is done with the reply.
  std::shared_ptr<void> hold;
  std::vector<BodyPiece> pieces;
  std::uint64_t content_length = 0;  // for file bodies, and for every headers_only reply
  bool close = false;                // close the connection after this reply
  // When set, the transport runs it on a worker thread, off the event loop,
  // and sends the reply it returns instead of this one: for reads that may
  // take a while (GET /api/v1/machines). It must not touch ServiceState.
  std::function<Reply()> offload;
  // Answer to HEAD: send the head with Content-Length = content_length and no
  // body (route() sets it; see strip_body_for_head).
  bool headers_only = false;
  // A body written over time (server-sent events; reply_stream.hpp): only
  // the operator listener sends these. The transport owns the other end.
  std::shared_ptr<ReplyStream> stream;
  // Answer later, when resume() can (see DeferredReply); this reply meanwhile.
  std::shared_ptr<DeferredReply> deferred;

  void header(std::string name, std::string value) { headers.emplace_back(std::move(name), std::move(value)); }
};

// Turns a GET reply into the HEAD reply: same status and headers, the body's
// length kept in content_length, no body.
void strip_body_for_head(Reply& r);

Reply text_reply(int status, std::string body, std::string content_type = "text/plain; charset=utf-8");
// {"error": message} with the status; every rejection the API makes looks like this.
Reply error_reply(int status, const std::string& message);

}  // namespace ramfleet::http
