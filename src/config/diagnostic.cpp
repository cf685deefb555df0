#include "config/diagnostic.hpp"

namespace ramfleet::config {

std::string Location::str() const {
  std::string out = file.empty() ? "<input>" : file;
  if (line > 0) {
    out += ":" + std::to_string(line);
    if (column > 0) out += ":" + std::to_string(column);
  }
  return out;
}

std::string Diagnostic::str() const {
  return where.str() + (severity == Severity::error ? ": error: " : ": warning: ") + message;
}

void Diagnostics::error(const Location& where, std::string message) {
  ++errors_;
  items_.push_back({Severity::error, where, std::move(message)});
}

void Diagnostics::warning(const Location& where, std::string message) {
  if (strict_) {
    error(where, std::move(message) + " (warning treated as error: --strict)");
    return;
  }
  items_.push_back({Severity::warning, where, std::move(message)});
}

}  // namespace ramfleet::config
