#pragma once
// A message about a place in a config file. Every config error in ramfleet is
// one of these, printed as "file:line:column: error: message" (1-based), the
// form editors and CI logs already understand.
#include <cstddef>
#include <string>
#include <vector>

namespace ramfleet {

// Where in a file: 1-based line and column, 0 when unknown.
struct Location {
  std::string file;
  std::size_t line = 0;    // 0 when the problem is the whole file
  std::size_t column = 0;  // 0 when only the line is known
  // "file:line:column", "file:line" or "file"; "<input>" for a text without a file name.
  [[nodiscard]] std::string str() const;
  [[nodiscard]] bool known() const { return line > 0; }
};

struct Diagnostic {
  enum class Severity { error, warning };
  std::string file;
  std::size_t line = 0;    // 1-based; 0 when the problem is the whole file
  std::size_t column = 0;  // 1-based
  Severity severity = Severity::error;
  std::string message;

  static Diagnostic at(const Location& where, Severity severity, std::string message) {
    return {where.file, where.line, where.column, severity, std::move(message)};
  }
  [[nodiscard]] Location location() const { return {file, line, column}; }
  // "file:line:column: error: message".
  [[nodiscard]] std::string str() const;
  [[nodiscard]] bool is_error() const { return severity == Severity::error; }
};

using Diagnostics = std::vector<Diagnostic>;

inline bool has_errors(const Diagnostics& ds) {
  for (const auto& d : ds)
    if (d.is_error()) return true;
  return false;
}

// Collects the diagnostics of one run over several files (a config
// compilation); strict mode turns warnings into errors.
class DiagnosticCollector {
 public:
  explicit DiagnosticCollector(bool strict = false) : strict_(strict) {}
  void error(const Location& where, std::string message);
  void warning(const Location& where, std::string message);
  [[nodiscard]] bool has_errors() const { return errors_ > 0; }
  [[nodiscard]] const Diagnostics& all() const { return items_; }
  Diagnostics take() { return std::move(items_); }

 private:
  bool strict_;
  std::size_t errors_ = 0;
  Diagnostics items_;
};

}  // namespace ramfleet
