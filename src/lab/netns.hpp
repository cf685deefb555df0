#pragma once
// The lab's network: one named network namespace (`ip netns`) holding a
// bridge with the server's address and one tap per VM. Nothing is created in
// the caller's own namespace, so the host's network is never touched.
#include <string>

namespace ramfleet::lab {

// Each throws std::runtime_error with `ip`'s own message on failure.
void create_namespace(const std::string& ns);
void add_bridge(const std::string& ns, const std::string& bridge, const std::string& address_cidr);
void add_tap(const std::string& ns, const std::string& tap, const std::string& bridge);
bool namespace_exists(const std::string& ns);
// Deletes the namespace (its bridge and taps go with it). True if it is gone.
bool delete_namespace(const std::string& ns);

// Moves the calling thread (the whole single-threaded process) into `ns`, so
// that its sockets and the children it starts live there. Returns an fd for
// the namespace it came from (for leave_namespace).
int enter_namespace(const std::string& ns);
void leave_namespace(int original_fd);

}  // namespace ramfleet::lab
