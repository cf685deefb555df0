// Inputs found by fuzz_config_compile, kept as regressions.
#include "test_support.hpp"

namespace ramfleet::config::test {
namespace {

// A later layer that sets an unknown `version` for the variant an earlier
// layer states: the pair is only known after the merge. It used to give no
// output and no error; it must be an error at the version's own place.
TEST(FuzzRegressions, VersionFromAnotherLayerIsCheckedAfterMerge) {
  auto r = compile({{"cluster.bu", "variant: fcos\nversion: 1.4.0\n"}, {"machine.bu", "version: 9.9.9\n"}});
  EXPECT_FALSE(r.ok());
  ASSERT_FALSE(r.diagnostics.empty());
  EXPECT_EQ(r.diagnostics.back().str(),
            "machine.bu:1:10: error: unsupported version '9.9.9' for variant 'fcos' (supported: " +
                supported_butane_versions() + ")");
  auto empty = compile({{"cluster.bu", "variant: fcos\nversion: 1.4.0\n"}, {"machine.bu", "version: \"\"\n"}});
  EXPECT_FALSE(empty.ok());
  bool error = false;
  for (const auto& d : empty.diagnostics) error = error || d.severity == Diagnostic::Severity::error;
  EXPECT_TRUE(error) << format_diagnostics(empty.diagnostics);
}

}  // namespace
}  // namespace ramfleet::config::test
