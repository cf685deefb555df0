#pragma once
// Reading typed fields out of YAML while collecting file:line:column
// diagnostics instead of throwing: one pass reports every mistake in a file.
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "core/diagnostic.hpp"
#include "core/ipv4.hpp"
#include "core/mac_address.hpp"

namespace ramfleet::settings {

class YamlFields {
 public:
  YamlFields(std::string file, Diagnostics& out) : file_(std::move(file)), out_(out) {}

  // Parses the file; on a syntax error reports it and returns nullopt.
  std::optional<YAML::Node> load();

  void error(const YAML::Node& at, std::string message);
  void error(const YAML::Mark& at, std::string message);

  // True when `node` is a map; reports every key not in `allowed`.
  bool expect_map(const YAML::Node& node, std::string_view what, std::initializer_list<std::string_view> allowed);
  bool expect_sequence(const YAML::Node& node, std::string_view what);

  std::optional<std::string> string(const YAML::Node& node, std::string_view what);
  std::optional<bool> boolean(const YAML::Node& node, std::string_view what);
  std::optional<std::int64_t> integer(const YAML::Node& node, std::string_view what, std::int64_t min,
                                      std::int64_t max);
  std::optional<Ipv4> ipv4(const YAML::Node& node, std::string_view what);
  std::optional<Ipv4Subnet> subnet(const YAML::Node& node, std::string_view what);
  std::optional<MacAddress> mac(const YAML::Node& node, std::string_view what);
  // core/duration.hpp's grammar, bare numbers in seconds: "3600", "90s", "1h30m".
  std::optional<std::chrono::seconds> duration(const YAML::Node& node, std::string_view what);

  [[nodiscard]] const std::string& file() const { return file_; }

 private:
  std::string file_;
  Diagnostics& out_;
};

}  // namespace ramfleet::settings
