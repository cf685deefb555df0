#pragma once
// The bytes of a resource that the compiler itself must place (cloud-config,
// apkovl): inline, local or data: URL contents, decompressed, with their
// verification hash checked here since no Ignition will check it at boot.
#include <optional>
#include <string>

#include "config/model.hpp"
#include "core/diagnostic.hpp"

namespace ramfleet::config {

struct EmbeddedBytes {
  std::string raw;    // as stored (still gzip-compressed if compression: gzip)
  bool gzip = false;  // raw is gzip data
  std::string plain;  // decompressed
};

// `target` names the output in error messages ("cloud-config", "apkovl").
std::optional<EmbeddedBytes> embedded_bytes(const Resource& r, const std::string& target, DiagnosticCollector& diag);

}  // namespace ramfleet::config
