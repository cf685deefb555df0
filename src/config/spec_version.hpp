#pragma once
// Butane variant/version -> Ignition spec version, as Butane documents it
// (coreos.github.io/butane/specs: "Butane specifications and Ignition specifications").
#include <compare>
#include <optional>
#include <string>
#include <string_view>

namespace ramfleet::config {

struct IgnitionSpec {
  int major = 3;
  int minor = 0;
  int patch = 0;
  static std::optional<IgnitionSpec> parse(std::string_view text);  // "3.3.0"
  [[nodiscard]] std::string str() const;
  auto operator<=>(const IgnitionSpec&) const = default;
  // Feature gates of the Ignition 3.x specs that the compiler emits.
  [[nodiscard]] bool has_http_headers() const { return *this >= IgnitionSpec{3, 1, 0}; }
  [[nodiscard]] bool has_should_exist() const { return *this >= IgnitionSpec{3, 2, 0}; }
  [[nodiscard]] bool has_sha256() const { return *this >= IgnitionSpec{3, 2, 0}; }
  [[nodiscard]] bool has_kernel_arguments() const { return *this >= IgnitionSpec{3, 3, 0}; }
  [[nodiscard]] bool has_special_mode_bits() const { return *this >= IgnitionSpec{3, 4, 0}; }
  [[nodiscard]] bool has_local_units() const { return *this >= IgnitionSpec{3, 4, 0}; }
};

// The Ignition specs this compiler can emit (3.0.0 .. 3.5.0).
bool supported_ignition_spec(const IgnitionSpec& spec);

// nullopt when the variant/version pair is not one Butane documents as stable.
std::optional<IgnitionSpec> ignition_spec_for(std::string_view variant, std::string_view version);

// "fcos 1.0.0, 1.1.0, ...; flatcar 1.0.0, 1.1.0" for error messages.
std::string supported_butane_versions();

}  // namespace ramfleet::config
