#pragma once
// Decides what a machine boots: the most specific matching group's profile,
// else the inventory's default. The reason is written for the boot log.
#include <string>
#include <vector>

#include "inventory/model.hpp"

namespace ramfleet::inventory {

struct BootDecision {
  enum class Kind { group, default_profile, exit };
  Kind kind = Kind::exit;
  const Group* group = nullptr;           // when kind == group
  const Profile* profile = nullptr;       // when kind != exit
  std::vector<std::string> also_matched;  // less specific groups that matched too
  std::string reason;

  [[nodiscard]] bool matched() const { return kind == Kind::group; }
};

// The pointers stay valid as long as the Inventory does.
BootDecision decide(const Inventory& inv, const MachineFacts& facts);

}  // namespace ramfleet::inventory
