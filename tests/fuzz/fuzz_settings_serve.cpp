// libFuzzer target: the settings YAML (<config>/ramfleet.yaml through
// settings::apply_serve_file). Invariants: no exception escapes (every problem
// is a Diagnostic); on any error the settings are left exactly as they were.
// fuzz-options: -max_len=8192 -runs=20000
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "settings/serve_settings.hpp"

namespace fs = std::filesystem;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fs::path dir = fs::temp_directory_path() / ("ramfleet-fuzz-settings-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / ramfleet::settings::kServeFileName, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  auto settings = ramfleet::settings::default_serve_settings();
  ramfleet::Diagnostics diags;
  ramfleet::settings::apply_serve_file(dir, settings, diags);
  if (ramfleet::has_errors(diags)) {
    auto fresh = ramfleet::settings::default_serve_settings();
    if (settings.state_dir != fresh.state_dir || settings.interface != fresh.interface ||
        settings.http.port != fresh.http.port || settings.http.enabled != fresh.http.enabled)
      std::abort();
  }
  return 0;
}
