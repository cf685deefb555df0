#include "core/diagnostic.hpp"

namespace ramfleet {

std::string Location::str() const {
  std::string out = file.empty() ? "<input>" : file;
  if (line > 0) {
    out += ":" + std::to_string(line);
    if (column > 0) out += ":" + std::to_string(column);
  }
  return out;
}

std::string Diagnostic::str() const {
  return location().str() + (severity == Severity::error ? ": error: " : ": warning: ") + message;
}

void DiagnosticCollector::error(const Location& where, std::string message) {
  ++errors_;
  items_.push_back(Diagnostic::at(where, Diagnostic::Severity::error, std::move(message)));
}

void DiagnosticCollector::warning(const Location& where, std::string message) {
  if (strict_) {
    error(where, std::move(message) + " (warning treated as error: --strict)");
    return;
  }
  items_.push_back(Diagnostic::at(where, Diagnostic::Severity::warning, std::move(message)));
}

}  // namespace ramfleet
