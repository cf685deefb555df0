#pragma once
// The root image fetched peer to peer (`ramfleet-stage1 fetch --p2p`,
// docs/scale.md): chunks.json from ramfleet, then chunks from the peers the
// tracker names, from ramfleet by HTTP Range when told "server", when a peer
// fails or lies, or after a bounded wait with no source. Every chunk is
// checked against the manifest, the whole image against its digest by the
// root writer. Held chunks are served to other peers, and for
// --seed-seconds after the root is complete by a detached child process, so
// stage 1 can switch_root meanwhile. Without a usable manifest the plain
// fetch runs instead.
#include "stage1/fetch_options.hpp"
#include "stage1/fetcher/fetch_root.hpp"

namespace ramfleet::stage1 {

// true when the root is complete and verified (the seeding child, if any,
// is detached by then); false after a failure, the directory emptied.
bool p2p_fetch_root(const FetchOptions& options, const Say& say);

}  // namespace ramfleet::stage1
