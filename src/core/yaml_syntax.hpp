#pragma once
// Loading YAML text and turning a syntax error into one file:line:column
// diagnostic, for every YAML reader in ramfleet.
//
// yaml-cpp reports where it gave up, which for an unclosed construct is where
// it ran out of input: an unterminated quote opened on line 6 is reported at
// 7:1, a missing ']' on the line after. The helpers here re-scan the text and
// report the place the broken construct starts instead, and they catch the
// one case yaml-cpp silently accepts: a double- or single-quoted string left
// open at the end of the file, which yaml-cpp turns into a value that
// swallows the rest of the file.
#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/diagnostic.hpp"

namespace ramfleet {

// A construct that has to be closed: a quoted scalar or a flow collection.
struct YamlOpening {
  enum class Kind { double_quoted, single_quoted, flow_sequence, flow_mapping };
  Kind kind = Kind::double_quoted;
  std::size_t offset = 0;  // byte offset of the opening character
  std::size_t line = 0;    // 0-based, like yaml-cpp's marks
  std::size_t column = 0;  // 0-based
};

// What a scan of `text` up to (not including) byte `end` leaves open.
struct YamlScan {
  std::vector<YamlOpening> open;  // outermost first; a quoted scalar, if any, last
  // The last quoted scalar closed before `end`, and the line it closed on.
  std::optional<YamlOpening> last_quoted;
  std::size_t last_quoted_end_line = 0;
};

// A deliberately small YAML lexer (quotes, escapes, flow brackets, comments,
// plain scalars, block scalars): enough to know which constructs are open at a
// position, not a parser.
YamlScan scan_yaml(std::string_view text, std::size_t end);

// The diagnostic for a yaml-cpp exception thrown while loading `text`,
// "<what>: ..." at the start of the broken construct when the scan finds one,
// else at yaml-cpp's mark (line 0 when it has none).
Diagnostic yaml_syntax_error(const std::string& file, std::string_view text, const YAML::Exception& e,
                             std::string_view what = "invalid YAML");

// YAML::Load(text), with every syntax problem (including a quoted string left
// open at the end of the file) returned as one diagnostic instead.
std::variant<YAML::Node, Diagnostic> load_yaml(std::string_view text, const std::string& file,
                                               std::string_view what = "invalid YAML");

}  // namespace ramfleet
