#pragma once
// Where a config mistake is and what it is. Every error or warning the
// compiler produces names file:line:column (1-based), so an operator can jump
// straight to it before anything boots.
#include <string>
#include <string_view>
#include <vector>

namespace ramfleet::config {

struct Location {
  std::string file;
  int line = 0;    // 1-based; 0 = unknown
  int column = 0;  // 1-based; 0 = unknown
  [[nodiscard]] std::string str() const;
  [[nodiscard]] bool known() const { return line > 0; }
};

enum class Severity { warning, error };

struct Diagnostic {
  Severity severity = Severity::error;
  Location where;
  std::string message;
  // "file:line:column: error: message", the form compilers and editors understand.
  [[nodiscard]] std::string str() const;
};

// Collects diagnostics for one compilation; strict mode turns warnings into errors.
class Diagnostics {
 public:
  explicit Diagnostics(bool strict = false) : strict_(strict) {}
  void error(const Location& where, std::string message);
  void warning(const Location& where, std::string message);
  [[nodiscard]] bool has_errors() const { return errors_ > 0; }
  [[nodiscard]] const std::vector<Diagnostic>& all() const { return items_; }
  std::vector<Diagnostic> take() { return std::move(items_); }

 private:
  bool strict_;
  int errors_ = 0;
  std::vector<Diagnostic> items_;
};

}  // namespace ramfleet::config
