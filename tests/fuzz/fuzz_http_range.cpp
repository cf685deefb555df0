// libFuzzer target: Range headers, If-None-Match ETag lists and the asset
// reply plan, fed arbitrary bytes. Invariants (a violation aborts): parsed
// ranges are sorted, disjoint, inside the file and at most kMaxRanges; a reply
// never plans more body bytes than the file has (the 32 x "0-" amplification),
// and its Content-Length equals what it plans to send.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "http/asset_response.hpp"
#include "http/range.hpp"

using namespace ramfleet::http;

namespace {
void check(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 8) return 0;
  std::uint64_t file_size = 0;
  std::memcpy(&file_size, data, 8);
  // Small sizes half the time (so ranges collide with the end), any size else.
  if (file_size & 1) file_size = (file_size >> 1) % 4096;
  const std::string_view text(reinterpret_cast<const char*>(data + 8), size - 8);

  const auto rr = parse_range(text, file_size);
  if (rr.kind == RangeRequest::Kind::satisfiable) {
    check(!rr.ranges.empty() && rr.ranges.size() <= kMaxRanges);
    for (std::size_t i = 0; i < rr.ranges.size(); ++i) {
      const auto& r = rr.ranges[i];
      check(r.first <= r.last && r.last < file_size);
      if (i > 0) check(rr.ranges[i - 1].last < r.first);
    }
  } else {
    check(rr.ranges.empty() || rr.kind == RangeRequest::Kind::none);
  }

  FileInfo file{file_size, 784111777, 5, "application/octet-stream"};
  const std::string etag = make_etag(file);
  (void)etag_list_matches(text, etag);
  (void)etag_list_matches(text, text);

  AssetConditions c;
  c.range = std::string(text);
  // Half the inputs also carry the text as If-None-Match / If-Range.
  if (data[0] & 2) c.if_none_match = std::string(text);
  if (data[0] & 4) c.if_range = std::string(text);
  const auto plan = plan_asset_response(file, c, "B");
  std::uint64_t planned = 0;
  std::uint64_t file_bytes = 0;
  for (const auto& p : plan.body) {
    planned += p.is_file() ? p.length : p.text.size();
    if (p.is_file()) {
      check(p.offset + p.length <= file_size);
      file_bytes += p.length;
    }
  }
  check(planned == plan.content_length);
  if (plan.status == 200 || plan.status == 206) check(planned <= file_size && file_bytes <= file_size);
  return 0;
}
