#pragma once
// Decides the response for a static file, sans-IO: request conditions and the
// file's size/mtime in, status + headers + a body plan (text pieces and file
// segments) out. The server writes text with write(2) and segments with
// sendfile(2); tests check the plan without a socket.
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "http/range.hpp"

namespace ramfleet::http {

struct FileInfo {
  std::uint64_t size = 0;
  std::time_t mtime = 0;
  std::int64_t mtime_ns = 0;  // nanoseconds within the second, for the ETag
  std::string content_type;
};

struct AssetConditions {
  bool head = false;
  std::optional<std::string> range;
  std::optional<std::string> if_range;
  std::optional<std::string> if_none_match;
  std::optional<std::string> if_modified_since;
};

struct BodyPiece {
  std::string text;          // written as is when length == 0
  std::uint64_t offset = 0;  // file segment
  std::uint64_t length = 0;
  [[nodiscard]] bool is_file() const { return length > 0; }
};

struct AssetPlan {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Length included
  std::vector<BodyPiece> body;                               // empty for HEAD, 304, 416
  std::uint64_t content_length = 0;
  bool range_ignored = false;  // a satisfiable Range answered with the whole file (cheaper than its parts)
};

std::string make_etag(const FileInfo& f);
bool etag_list_matches(std::string_view list, std::string_view etag);
std::string content_type_for(std::string_view filename);

// `boundary` is passed in so tests are deterministic; the server uses a counter.
AssetPlan plan_asset_response(const FileInfo& file, const AssetConditions& c, const std::string& boundary);

}  // namespace ramfleet::http
