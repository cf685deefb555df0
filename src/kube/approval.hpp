#pragma once
// Operator approval of control-plane members. The CA keys a control-plane
// member needs are released by the boot layer only to a node the operator
// approved with `ramfleet cluster approve NODE` (docs/cluster.md): whoever
// answers DHCP as "cp1" on the boot network is not thereby trusted with the
// cluster. An approval is one file, STATE/approved/<node>, so it survives
// restarts and can be inspected and revoked with ordinary tools.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace ramfleet::kube {

inline constexpr std::string_view kApprovedDir = "approved";

// STATE/approved/<node>: written by `ramfleet cluster approve NODE`. A control-plane member that
// has never booted gets its CA keys only once approved (docs/security.md).
// False for a name that is not a valid node name (it can never have been approved).
[[nodiscard]] bool node_approved(const std::filesystem::path& state, std::string_view node);
// Records the approval (who and when) with an atomic write, file 0600, directory 0700.
// Throws std::invalid_argument when node is not a DNS-1123 subdomain (so it cannot
// name anything outside STATE/approved) or `by` holds a control character.
void approve_node(const std::filesystem::path& state, std::string_view node, std::string_view by);
// Removes the approval; false when there was none. Throws std::invalid_argument on a bad name.
bool revoke_approval(const std::filesystem::path& state, std::string_view node);
// Approved node names, sorted; files that are not valid node names (temp files) are skipped.
[[nodiscard]] std::vector<std::string> approved_nodes(const std::filesystem::path& state);

}  // namespace ramfleet::kube
