// libFuzzer target: STATE/tokens.json loading (kube::TokenStore::all/valid)
// and bootstrap token parsing. Invariants: only StateError is thrown; every
// token loaded parses back from its string form.
// fuzz-options: -max_len=4096 -runs=50000
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "kube/secret_files.hpp"
#include "kube/tokens.hpp"

using namespace ramfleet::kube;
namespace fs = std::filesystem;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fs::path dir = fs::temp_directory_path() / ("ramfleet-fuzz-tokens-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string input(reinterpret_cast<const char*>(data), size);
  (void)parse_bootstrap_token(input);
  std::ofstream(dir / "tokens.json", std::ios::binary | std::ios::trunc) << input;
  TokenStore store(dir);
  try {
    for (const auto& t : store.all())
      if (!parse_bootstrap_token(t.str())) std::abort();
    (void)store.valid(Clock::time_point{} + std::chrono::seconds(1'700'000'000));
  } catch (const StateError&) {
  }
  return 0;
}
