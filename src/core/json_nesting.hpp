#pragma once
// How deeply a JSON text nests `[` and `{` (outside strings), found by a
// linear scan before any parser runs: untrusted documents (OCI manifests,
// chunk manifests, p2p announces) are refused when they nest deeper than
// their shape allows, since a parser's and a value's destructor's work and
// stack grow with depth.
#include <string_view>

namespace ramfleet {

// The deepest nesting; stops counting (and returns) as soon as it exceeds `stop_above`.
int json_nesting_depth(std::string_view text, int stop_above = 1 << 30);

inline bool json_nests_within(std::string_view text, int limit) { return json_nesting_depth(text, limit) <= limit; }

}  // namespace ramfleet
