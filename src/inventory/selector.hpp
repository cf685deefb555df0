#pragma once
// A group's selector: constraints on facts and labels, all of which must hold.
//
// Precedence ("the most specific match wins") compares Specificity
// lexicographically, field by field:
//   1. identity: exact mac, uuid or serial constraints (they name one machine)
//   2. narrow:   hostname, mac/serial patterns and labels (a handful of machines)
//   3. class:    arch, platform, buildarch, manufacturer, product (a kind of machine)
//   4. literal:  total literal characters in patterns (52:54:00:12:* beats 52:54:00:*)
// Two groups with equal Specificity whose selectors can match one machine are a
// tie, which is a configuration error (found at load, never at boot time).
#include <compare>
#include <map>
#include <string>
#include <vector>

#include "inventory/facts.hpp"

namespace ramfleet::inventory {

struct Specificity {
  int identity = 0;
  int narrow = 0;
  int klass = 0;
  int literal = 0;
  auto operator<=>(const Specificity&) const = default;
  [[nodiscard]] std::string str() const;
};

struct Constraint {
  enum class Kind { fact, label };
  Kind kind = Kind::fact;
  FactKey fact = FactKey::mac;  // when kind == fact
  std::string label;            // when kind == label
  std::string pattern;          // normalised; may contain * and ?

  [[nodiscard]] std::string key_name() const;  // "mac", "labels.rack"
  [[nodiscard]] bool matches(const MachineFacts& f) const;
};

class Selector {
 public:
  Selector() = default;
  explicit Selector(std::vector<Constraint> constraints);

  [[nodiscard]] bool matches(const MachineFacts& f) const;
  // False only when no machine can satisfy both selectors.
  [[nodiscard]] bool may_overlap(const Selector& other) const;
  [[nodiscard]] const Specificity& specificity() const { return specificity_; }
  [[nodiscard]] const std::vector<Constraint>& constraints() const { return constraints_; }
  [[nodiscard]] std::string str() const;  // "mac=52:54:00:* arch=x86_64", or "(any)"

 private:
  std::vector<Constraint> constraints_;
  Specificity specificity_;
};

// Normalises a selector value for a fact key (MAC separators and case, UUID
// form, lower-case host names); returns an error text when the value is invalid.
struct PatternResult {
  std::string pattern;
  std::string error;
};
PatternResult normalise_pattern(FactKey key, std::string_view value);

}  // namespace ramfleet::inventory
