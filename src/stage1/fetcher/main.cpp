// ramfleet-stage1: what a node's stage-1 initrd runs to put its root file
// system into a tmpfs (docs/images.md). Static, no config files: everything
// comes from the command line, every message goes to stderr prefixed
// "ramfleet-stage1:" so the console shows whose it is.
#include <cstdio>
#include <string>
#include <vector>

#include "stage1/fetch_options.hpp"
#include "stage1/fetcher/fetch_root.hpp"
#include "stage1/fetcher/p2p_fetch.hpp"

namespace {

void say(const std::string& line) { std::fprintf(stderr, "ramfleet-stage1: %s\n", line.c_str()); }

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::fputs(ramfleet::stage1::fetch_usage().c_str(), args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  std::string error;
  auto options = ramfleet::stage1::parse_fetch_options(args, error);
  if (!options) {
    say("ERROR " + error);
    std::fputs(ramfleet::stage1::fetch_usage().c_str(), stderr);
    return 2;
  }
  try {
    // --p2p: chunks from peers, ramfleet as tracker and fallback (docs/scale.md).
    if (options->p2p.enabled) return ramfleet::stage1::p2p_fetch_root(*options, say) ? 0 : 1;
    return ramfleet::stage1::fetch_root(*options, say) ? 0 : 1;
  } catch (const std::exception& e) {
    say(std::string("ERROR ") + e.what());
    return 1;
  }
}
