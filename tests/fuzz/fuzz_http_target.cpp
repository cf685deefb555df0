// libFuzzer target: request target parsing (path segments, query parameters,
// percent-decoding) and the router fed arbitrary targets and methods against
// an empty service (no inventory, no store, no assets). Invariants: parsing
// keeps at most kMaxTargetParams parameters; route() always answers with a
// status it can name and never throws.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/log.hpp"
#include "http/response_head.hpp"
#include "http/router.hpp"
#include "http/target.hpp"

using namespace ramfleet;
using namespace ramfleet::http;

namespace {
void check(bool ok) {
  if (!ok) std::abort();
}

ServiceState& state() {
  static ServiceState* st = [] {
    log::init("off", log::Format::logfmt);
    auto* s = new ServiceState;
    s->inventory = std::make_shared<inventory::Inventory>();
    return s;
  }();
  return *st;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  auto parsed = parse_target(text);
  if (auto* t = std::get_if<Target>(&parsed)) check(t->params.size() <= kMaxTargetParams);

  static const char* const prefixes[] = {"", "/ipxe?", "/assets/", "/api/v1/", "/boot.ipxe?", "/healthz?"};
  Request req;
  req.method = static_cast<Method>(data[0] % 4);
  req.target = std::string(prefixes[(data[0] >> 2) % 6]) + text;
  req.host = "boot.example";
  req.peer = "127.0.0.1:1";
  const Reply r = route(state(), req);
  check(!reason_phrase(r.status).empty());
  if (req.method == Method::head) check(r.body.empty() && r.headers_only);
  return 0;
}
