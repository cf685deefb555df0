#pragma once
// Mustache templates in config strings ("{{hostname}}", "{{labels.role}}").
// Unlike plain mustache, a variable the machine does not have is an error
// naming file:line:column, never an empty string: a node must not boot with a
// half-filled config.
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/diagnostic.hpp"

namespace ramfleet::config {

// A machine's template variables: a JSON object; nested objects are reached
// with dots ({{labels.role}}). See machine_variables() in compile.hpp.
using Variables = nlohmann::json;

// Where a YAML scalar came from, to point at the exact tag that failed.
struct ScalarOrigin {
  std::string_view source;  // whole text of the layer file
  std::size_t offset = 0;   // where the scalar starts in `source`
  Location at;              // the scalar's own location
};

class TemplateRenderer {
 public:
  explicit TemplateRenderer(const Variables& vars);
  ~TemplateRenderer();
  TemplateRenderer(const TemplateRenderer&) = delete;
  TemplateRenderer& operator=(const TemplateRenderer&) = delete;

  // Text without "{{" is returned unchanged. On a missing variable or a
  // malformed template: diagnostics get an error, the result is nullopt.
  std::optional<std::string> render(const std::string& text, const ScalarOrigin& origin,
                                    DiagnosticCollector& diag) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// 1-based line/column of byte `offset` in `source`.
Location location_of(std::string_view source, std::size_t offset, const std::string& file);

}  // namespace ramfleet::config
