// libFuzzer target: stage 1's root writer on hostile input, writing for real
// into a scratch directory. The first byte picks the path:
//   even: the rest is a newc cpio, fed (in pieces of varying size) to the
//         sans-IO CpioStream driving the TreeWriter that creates the files;
//   odd:  the rest is the compressed image, fed to RootWriter (sha256 + zstd
//         + cpio + files) with its own digest as the expected one.
// Invariants (a violation aborts): only std::runtime_error is ever thrown,
// and nothing appears outside the scratch root (its sibling "outside", the
// target of any symlink the input makes toward it, stays empty).
// fuzz-options: -max_len=65536 -runs=20000
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "core/sha256.hpp"
#include "stage1/cpio_stream.hpp"
#include "stage1/root_writer.hpp"
#include "stage1/tree_writer.hpp"

using namespace ramfleet;
using namespace ramfleet::stage1;
namespace fs = std::filesystem;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

const fs::path& scratch() {
  static const fs::path dir = [] {
    auto p = fs::temp_directory_path() / ("ramfleet-fuzz-stage1-" + std::to_string(::getpid()));
    fs::remove_all(p);
    fs::create_directories(p / "outside");
    return p;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const fs::path root = scratch() / "root";
  fs::remove_all(root);
  fs::create_directories(root);
  ByteView input(data + 1, size - 1);
  try {
    if (data[0] % 2 == 0) {
      TreeWriter tree(root.string());
      CpioStream cpio(tree);
      std::size_t step = 1 + data[0] * 7u;
      for (std::size_t i = 0; i < input.size(); i += step)
        cpio.feed(input.subspan(i, std::min(step, input.size() - i)));
      cpio.finish();
      tree.finish();
    } else {
      RootWriter w(root.string(), sha256(input));
      w.write(input);
      w.finish();
    }
  } catch (const std::runtime_error&) {
    // expected for most inputs
  }
  check(fs::is_empty(scratch() / "outside"));
  check(!fs::exists(scratch() / "escaped"));
  fs::remove_all(root);
  return 0;
}
