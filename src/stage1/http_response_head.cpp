#include "stage1/http_response_head.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <string_view>

namespace ramfleet::stage1 {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

[[noreturn]] void bad(const std::string& what) { throw std::runtime_error("malformed HTTP response: " + what); }

}  // namespace

const std::string* HttpResponseHead::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return &v;
  return nullptr;
}

std::size_t HttpResponseHeadParser::feed(ByteView data) {
  if (done_) return 0;
  // Look for the end of the head across the old and the new bytes.
  std::size_t old = buf_.size();
  buf_.append(as_text(data));
  std::size_t from = old >= 3 ? old - 3 : 0;
  auto end = buf_.find("\r\n\r\n", from);
  if (end == std::string::npos) {
    if (buf_.size() > max_bytes_) bad("head longer than " + std::to_string(max_bytes_) + " bytes");
    return data.size();
  }
  std::size_t head_len = end + 4;
  if (head_len > max_bytes_) bad("head longer than " + std::to_string(max_bytes_) + " bytes");
  buf_.resize(head_len);
  parse();
  done_ = true;
  return head_len - old;
}

void HttpResponseHeadParser::parse() {
  std::string_view text(buf_);
  text.remove_suffix(4);  // the final CRLFCRLF
  auto eol = text.find("\r\n");
  std::string_view status_line = text.substr(0, eol);
  text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 2);
  // "HTTP/1.1 200 OK"
  if (status_line.substr(0, 7) != "HTTP/1." || status_line.size() < 12 || status_line[8] != ' ')
    bad("status line \"" + std::string(status_line.substr(0, 80)) + "\"");
  auto code = status_line.substr(9, 3);
  if (!std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      (status_line.size() > 12 && status_line[12] != ' '))
    bad("status code in \"" + std::string(status_line.substr(0, 80)) + "\"");
  head_.status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
  if (head_.status < 100) bad("status code " + std::string(code));
  head_.reason = std::string(status_line.size() > 13 ? status_line.substr(13) : std::string_view{});

  while (!text.empty()) {
    eol = text.find("\r\n");
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 2);
    if (line.empty()) bad("empty header line");
    if (line.front() == ' ' || line.front() == '\t') bad("folded header line");
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) bad("header line without a name");
    std::string name(line.substr(0, colon));
    for (char& c : name) {
      if (c <= 0x20 || c >= 0x7f) bad("header name with a space or control character");
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    std::string_view value = trim(line.substr(colon + 1));
    for (char c : value)
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) bad("control character in header " + name);
    if (head_.headers.size() >= max_headers_) bad("more than " + std::to_string(max_headers_) + " headers");
    head_.headers.emplace_back(name, std::string(value));
  }

  for (const auto& [name, value] : head_.headers) {
    if (name == "content-length") {
      auto v = parse_u64(value);
      if (!v) bad("Content-Length \"" + value.substr(0, 40) + "\"");
      if (head_.content_length && *head_.content_length != *v) bad("two different Content-Length headers");
      head_.content_length = v;
    } else if (name == "transfer-encoding") {
      std::string lower = value;
      for (char& c : lower)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (lower == "chunked")
        head_.chunked = true;
      else if (lower != "identity")
        bad("Transfer-Encoding \"" + value.substr(0, 40) + "\"");
    } else if (name == "content-range") {
      // bytes FIRST-LAST/TOTAL
      std::string_view v = value;
      if (v.substr(0, 6) != "bytes ") bad("Content-Range \"" + value.substr(0, 60) + "\"");
      v.remove_prefix(6);
      auto dash = v.find('-'), slash = v.find('/');
      if (dash == std::string_view::npos || slash == std::string_view::npos || slash < dash)
        bad("Content-Range \"" + value.substr(0, 60) + "\"");
      head_.range_first = parse_u64(v.substr(0, dash));
      head_.range_last = parse_u64(v.substr(dash + 1, slash - dash - 1));
      auto total = v.substr(slash + 1);
      head_.range_total = total == "*" ? std::optional<std::uint64_t>(0) : parse_u64(total);
      if (!head_.range_first || !head_.range_last || !head_.range_total || *head_.range_last < *head_.range_first)
        bad("Content-Range \"" + value.substr(0, 60) + "\"");
    }
  }
  if (head_.chunked && head_.content_length) bad("both Content-Length and chunked Transfer-Encoding");
}

}  // namespace ramfleet::stage1
