#pragma once
// Layering: cluster -> role -> group -> machine. Follows Ignition's config
// merge rules: lists are keyed (files/directories/links by path, sharing one
// key space; units, dropins, users, groups by name; kernel arguments by
// value); a later layer overrides only the fields it sets; lists of plain
// values (ssh keys, supplementary groups, append fragments) are appended.
// An entry with `ramfleet.remove: true` deletes the earlier entry with its key.
#include "config/model.hpp"
#include "core/diagnostic.hpp"

namespace ramfleet::config {

// Merges `later` over `base`. Conflicts that Ignition resolves silently (a path
// that changes kind, e.g. file -> link) are warnings naming both places, so
// --strict catches them; removing something that is not there is a warning too.
void merge_layer(NodeConfig& base, NodeConfig later, DiagnosticCollector& diag);

}  // namespace ramfleet::config
