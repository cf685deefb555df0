#pragma once
// A message about a place in a config file. Every config error in ramfleet is
// one of these, printed as "file:line:column: error: message" (1-based), the
// form editors and CI logs already understand.
#include <cstddef>
#include <string>
#include <vector>

namespace ramfleet {

struct Diagnostic {
  enum class Severity { error, warning };
  std::string file;
  std::size_t line = 0;    // 1-based; 0 when the problem is the whole file
  std::size_t column = 0;  // 1-based
  Severity severity = Severity::error;
  std::string message;

  [[nodiscard]] std::string str() const {
    std::string out = file;
    if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
    out += severity == Severity::error ? ": error: " : ": warning: ";
    out += message;
    return out;
  }
  [[nodiscard]] bool is_error() const { return severity == Severity::error; }
};

using Diagnostics = std::vector<Diagnostic>;

inline bool has_errors(const Diagnostics& ds) {
  for (const auto& d : ds)
    if (d.is_error()) return true;
  return false;
}

}  // namespace ramfleet
