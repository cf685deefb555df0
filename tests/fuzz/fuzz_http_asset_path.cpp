// libFuzzer target: asset path resolution (path confinement). A fixed tree is
// made once: assets/ with a file, a subdirectory, a symlink inside and one
// leading out, and a sibling directory assets-old/. Arbitrary bytes are used
// as the target after "/assets/" and resolved. Invariant: whatever resolves is
// a regular file whose real path lies inside the assets directory.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "http/asset_path.hpp"
#include "http/target.hpp"

using namespace ramfleet::http;
namespace fs = std::filesystem;

namespace {
void check(bool ok) {
  if (!ok) std::abort();
}

const fs::path& root() {
  static const fs::path r = [] {
    const fs::path base = fs::temp_directory_path() / ("rf-fuzz-assets-" + std::to_string(::getpid()));
    fs::remove_all(base);
    fs::create_directories(base / "assets" / "sub");
    fs::create_directories(base / "assets-old");
    std::ofstream(base / "assets" / "sub" / "k") << "kernel";
    std::ofstream(base / "assets-old" / "x") << "x";
    std::ofstream(base / "secret") << "secret";
    fs::create_symlink(base / "secret", base / "assets" / "out");
    fs::create_symlink("sub/k", base / "assets" / "in");
    fs::create_symlink("../assets-old/x", base / "assets" / "sibling");
    static const fs::path keep = base;
    std::atexit([] { fs::remove_all(keep); });
    return fs::canonical(base / "assets");
  }();
  return r;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)check_asset_segments({text});
  auto parsed = parse_target("/assets/" + text);
  auto* t = std::get_if<Target>(&parsed);
  if (!t || t->segments.empty()) return 0;
  t->segments.erase(t->segments.begin());
  auto resolved = resolve_asset(root(), t->segments);
  if (auto* p = std::get_if<fs::path>(&resolved)) {
    const std::string real = p->string();
    const std::string inside = root().string() + "/";
    check(real.compare(0, inside.size(), inside) == 0);
    check(fs::is_regular_file(*p));
  }
  return 0;
}
