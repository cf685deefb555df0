// libFuzzer target: the inventory loader (load_inventory) on a config
// directory written from the input: pieces split on "@@@@" become
// inventory.yaml, profiles/a.yaml, profiles/b.yaml, groups/a.yaml,
// groups/b.yaml. Invariants: no exception escapes (every problem is a
// Diagnostic); an inventory is returned exactly when there is no error.
// fuzz-options: -max_len=8192 -runs=20000
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "inventory/loader.hpp"

namespace fs = std::filesystem;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fs::path dir = fs::temp_directory_path() / ("ramfleet-fuzz-inventory-" + std::to_string(::getpid()));
  static const char* files[] = {"inventory.yaml", "profiles/a.yaml", "profiles/b.yaml", "groups/a.yaml",
                                "groups/b.yaml"};
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir / "profiles");
  fs::create_directories(dir / "groups");
  std::string input(reinterpret_cast<const char*>(data), size);
  std::size_t start = 0;
  for (const char* f : files) {
    if (start > input.size()) break;
    auto at = input.find("@@@@", start);
    std::ofstream(dir / f, std::ios::binary)
        << input.substr(start, at == std::string::npos ? std::string::npos : at - start);
    start = at == std::string::npos ? input.size() + 1 : at + 4;
  }
  auto r = ramfleet::inventory::load_inventory(dir, {});  // no config rules: the loader alone
  if ((r.inventory != nullptr) == ramfleet::has_errors(r.diagnostics)) std::abort();
  return 0;
}
