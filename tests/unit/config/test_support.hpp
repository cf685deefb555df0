#pragma once
// Helpers for the config compiler's unit tests: compile YAML given inline and
// look at the diagnostics or the Ignition JSON that comes out.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/compile.hpp"

namespace ramfleet::config::test {

inline CompileResult compile(const std::vector<std::pair<std::string, std::string>>& layers,
                             const Variables& vars = Variables::object(), Target target = Target::ignition,
                             CompileOptions options = {}) {
  std::vector<LayerSource> sources;
  for (const auto& [name, text] : layers) sources.push_back({name, text});
  return compile_machine(sources, vars, target, options);
}

inline CompileResult compile_one(const std::string& text, CompileOptions options = {},
                                 const Variables& vars = Variables::object()) {
  return compile({{"machine.bu", text}}, vars, Target::ignition, std::move(options));
}

inline nlohmann::json ignition_json(const CompileResult& r) {
  EXPECT_TRUE(r.ok()) << format_diagnostics(r.diagnostics);
  if (!r.ok()) return nlohmann::json::object();
  return nlohmann::json::parse(*r.output);
}

// "file:line:col: error: message" lines, for exact comparisons.
inline std::vector<std::string> lines(const CompileResult& r) {
  std::vector<std::string> out;
  for (const auto& d : r.diagnostics) out.push_back(d.str());
  return out;
}

// The first diagnostic's location as "file:line:col".
inline std::string first_at(const CompileResult& r) {
  if (r.diagnostics.empty()) return "<no diagnostic>";
  return r.diagnostics.front().location().str();
}

// A fresh scratch directory under the system temp dir, removed at scope exit.
class ScratchDir {
 public:
  ScratchDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("ramfleet-config-test-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace ramfleet::config::test
