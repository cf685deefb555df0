#pragma once
// systemd's readiness protocol (sd_notify(3)), without libsystemd: one
// datagram of "KEY=value" lines to the unix socket named by $NOTIFY_SOCKET
// (a path, or an abstract name when it starts with '@'). Outside systemd the
// variable is unset and every call is a no-op, so serve calls it
// unconditionally.
//
//   net::sd_notify("READY=1");       // every service is bound
//   net::sd_notify("RELOADING=1\nMONOTONIC_USEC=" + ...);  // SIGHUP: re-reading the config
//   net::sd_notify("STOPPING=1");    // draining before exit
#include <optional>
#include <string>
#include <string_view>

namespace ramfleet::net {

// Sends `state` to $NOTIFY_SOCKET. Returns false when the variable is unset
// (not under systemd); throws nothing: a failed send is logged once and
// returns false, since readiness reporting must never stop the server.
bool sd_notify(std::string_view state);

// Sends to an explicit socket name (what sd_notify reads from the
// environment); nullopt on success, else why it failed.
std::optional<std::string> sd_notify_to(std::string_view socket_name, std::string_view state);

// "RELOADING=1" with the MONOTONIC_USEC= that systemd >= 253 asks for, so
// Type=notify-reload units see the reload too.
std::string reloading_message();

}  // namespace ramfleet::net
