// libFuzzer target: the body of POST /api/v1/machines/{id}/p2p/{image_id},
// which anyone on the boot network can send. Invariants (a violation aborts):
// exactly one of announce and error; an accepted body has a port and bounded
// index lists of valid indices; a refusal's message is bounded.
// fuzz-options: -max_len=8192
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http/p2p_body.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ramfleet::http;
  const auto r = parse_p2p_body(std::string_view(reinterpret_cast<const char*>(data), size));
  if (r.announce.has_value() == !r.error.empty()) std::abort();
  if (r.announce) {
    if (r.announce->port == 0) std::abort();
    for (const auto* list : {&r.announce->have, &r.announce->want}) {
      if (list->size() > kMaxP2pIndices) std::abort();
      for (auto i : *list)
        if (i >= kMaxP2pIndices) std::abort();
    }
  } else if (r.error.size() > 256) {
    std::abort();
  }
  return 0;
}
