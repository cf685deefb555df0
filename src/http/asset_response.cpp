#include "http/asset_response.hpp"

#include <cinttypes>
#include <cstdio>

#include "http/http_date.hpp"

namespace ramfleet::http {

std::string make_etag(const FileInfo& f) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "\"%" PRIx64 ".%" PRIx64 "-%" PRIx64 "\"", static_cast<std::uint64_t>(f.mtime),
                static_cast<std::uint64_t>(f.mtime_ns), f.size);
  return buf;
}

bool etag_list_matches(std::string_view list, std::string_view etag) {
  // Weak comparison (RFC 9110 8.8.3.2), as If-None-Match requires.
  auto strip_weak = [](std::string_view t) { return t.substr(0, 2) == "W/" ? t.substr(2) : t; };
  etag = strip_weak(etag);
  while (!list.empty()) {
    auto comma = list.find(',');
    auto item = list.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item == "*" || strip_weak(item) == etag) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

std::string content_type_for(std::string_view name) {
  auto dot = name.rfind('.');
  auto ext = dot == std::string_view::npos ? std::string_view{} : name.substr(dot + 1);
  if (ext == "ipxe" || ext == "txt" || ext == "cfg") return "text/plain";
  if (ext == "json" || ext == "ign") return "application/json";
  if (ext == "yaml" || ext == "yml") return "application/yaml";
  if (ext == "html") return "text/html";
  if (ext == "gz" || ext == "tgz") return "application/gzip";
  if (ext == "zst") return "application/zstd";
  if (ext == "xz") return "application/x-xz";
  return "application/octet-stream";
}

namespace {
std::string content_range(const ByteRange& r, std::uint64_t size) {
  return "bytes " + std::to_string(r.first) + "-" + std::to_string(r.last) + "/" + std::to_string(size);
}

// If-Range (RFC 9110 13.1.5): honour Range only if the validator still matches
// (strong ETag comparison, or the exact Last-Modified date).
std::string part_head(const ByteRange& r, const FileInfo& file, const std::string& boundary) {
  return "\r\n--" + boundary + "\r\nContent-Type: " + file.content_type +
         "\r\nContent-Range: " + content_range(r, file.size) + "\r\n\r\n";
}
std::string part_tail(const std::string& boundary) { return "\r\n--" + boundary + "--\r\n"; }

std::uint64_t multipart_length(const std::vector<ByteRange>& ranges, const FileInfo& file,
                               const std::string& boundary) {
  std::uint64_t n = part_tail(boundary).size();
  for (const auto& r : ranges) n += part_head(r, file, boundary).size() + r.length();
  return n;
}

bool if_range_holds(const std::string& value, const std::string& etag, const std::string& last_modified) {
  if (!value.empty() && (value.front() == '"' || value.substr(0, 2) == "W/")) return value == etag;
  return value == last_modified;
}
}  // namespace

AssetPlan plan_asset_response(const FileInfo& file, const AssetConditions& c, const std::string& boundary) {
  AssetPlan p;
  const auto etag = make_etag(file);
  const auto last_modified = format_http_date(file.mtime);
  auto validators = [&] {
    p.headers.emplace_back("ETag", etag);
    p.headers.emplace_back("Last-Modified", last_modified);
  };

  bool not_modified = false;
  if (c.if_none_match) {
    not_modified = etag_list_matches(*c.if_none_match, etag);
  } else if (c.if_modified_since) {
    auto since = parse_http_date(*c.if_modified_since);
    not_modified = since && file.mtime <= *since;
  }
  if (not_modified) {
    p.status = 304;
    validators();
    return p;
  }

  RangeRequest rr;
  if (c.range && !c.head && (!c.if_range || if_range_holds(*c.if_range, etag, last_modified)))
    rr = parse_range(*c.range, file.size);

  if (rr.kind == RangeRequest::Kind::unsatisfiable) {
    p.status = 416;
    p.headers.emplace_back("Content-Range", "bytes */" + std::to_string(file.size));
    p.headers.emplace_back("Content-Type", "text/plain");
    p.body.push_back({"requested range not satisfiable\n", 0, 0});
    p.content_length = p.body.back().text.size();
    p.headers.emplace_back("Content-Length", std::to_string(p.content_length));
    return p;
  }

  validators();
  p.headers.emplace_back("Accept-Ranges", "bytes");
  if (rr.kind == RangeRequest::Kind::satisfiable && rr.ranges.size() == 1) {
    const auto& r = rr.ranges.front();
    p.status = 206;
    p.headers.emplace_back("Content-Type", file.content_type);
    p.headers.emplace_back("Content-Range", content_range(r, file.size));
    p.body.push_back({{}, r.first, r.length()});
    p.content_length = r.length();
  } else if (rr.kind == RangeRequest::Kind::satisfiable && multipart_length(rr.ranges, file, boundary) < file.size) {
    p.status = 206;
    p.headers.emplace_back("Content-Type", "multipart/byteranges; boundary=" + boundary);
    for (const auto& r : rr.ranges) {
      BodyPiece head{part_head(r, file, boundary), 0, 0};
      p.content_length += head.text.size() + r.length();
      p.body.push_back(std::move(head));
      p.body.push_back({{}, r.first, r.length()});
    }
    BodyPiece tail{part_tail(boundary), 0, 0};
    p.content_length += tail.text.size();
    p.body.push_back(std::move(tail));
  } else {
    // No Range, or parts that would cost more than the file itself (after
    // coalescing, only the part headers can make it so): the whole file, as
    // RFC 9110 14.2 lets a server ignore Range. Never more bytes than the file.
    if (rr.kind == RangeRequest::Kind::satisfiable) p.range_ignored = true;
    p.status = 200;
    p.headers.emplace_back("Content-Type", file.content_type);
    if (file.size > 0) p.body.push_back({{}, 0, file.size});
    p.content_length = file.size;
  }
  p.headers.emplace_back("Content-Length", std::to_string(p.content_length));
  if (c.head) p.body.clear();
  return p;
}

}  // namespace ramfleet::http
