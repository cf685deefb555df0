#pragma once
// Shell-style patterns for selector values: '*' any run of characters, '?' one
// character, everything else literal. Enough for MAC prefixes ("52:54:00:*"),
// host name ranges ("node-1?") and serial families, and simple enough that the
// loader can prove whether two patterns can ever match the same value.
#include <string_view>

namespace ramfleet::inventory {

bool glob_match(std::string_view pattern, std::string_view text);

// True when some string matches both patterns (used to find ties at load time).
bool glob_intersects(std::string_view a, std::string_view b);

bool is_glob(std::string_view pattern);

// Number of literal (non-wildcard) characters: a longer literal part is a more
// specific pattern.
int glob_literal_count(std::string_view pattern);

}  // namespace ramfleet::inventory
