#pragma once
// iPXE scripts: the generic /boot.ipxe entry script, and the per-machine script
// rendered from a profile with mustache variables. Variables are escaped for
// iPXE: anything outside [A-Za-z0-9._:/@+=,%-] becomes '_', so a fact a client
// sent can never add a command or split a kernel argument.
#include <map>
#include <string>
#include <string_view>

#include "inventory/model.hpp"

namespace ramfleet::inventory {

// Empty when the mustache template compiles, else the parser's message.
std::string template_error(const std::string& text);

struct TemplateContext {
  std::map<std::string, std::string> vars;      // {{mac}}, {{hostname}}, {{server}} ...
  std::map<std::string, std::string> metadata;  // {{metadata.role}}
  std::map<std::string, std::string> labels;    // {{labels.rack}}
};

// How a script tries again what it failed to fetch (docs/scale.md, "Admission
// control"). iPXE itself waits out a 503 or 429 with Retry-After (httpcore.c
// retries any reply carrying one), so these tries are for what it does not:
// a refused or reset connection, a timeout, a 404 while an asset is being
// copied in, a reply without Retry-After. Wait k (k = 1 .. tries-1) is
// first_wait x 2^(k-1) + jitter seconds; after the last try the script says
// so on the console and exits, so the firmware boots its next device (or
// reboots) instead of looping forever. iPXE has no random numbers: the server
// renders each machine's jitter (jitter_seconds) so a rack that failed
// together does not come back together.
struct ScriptRetry {
  unsigned tries = 6;
  unsigned first_wait_s = 2;
  unsigned jitter_s = 1;
};

// 1 .. spread seconds, the same for the same key (a machine id or an address).
unsigned jitter_seconds(std::string_view key, unsigned spread = 5);

// The script iPXE gets from DHCP: it chains to <base_url>/ipxe with every fact
// iPXE knows. The URL is absolute because older iPXE builds (the 2019 ROMs
// QEMU ships) fail relative chain URLs with "Operation not supported".
std::string render_boot_script(const std::string& base_url, const ScriptRetry& retry = {});

// kernel/initrd/boot for a profile. `uefi` adds initrd=<name> for each initrd
// (EFI stub kernels find their initrds by name). Asset names become
// <base_url>/assets/<name>; http(s):// and tftp:// URLs are kept.
std::string render_machine_script(const Profile& profile, const TemplateContext& ctx, bool uefi,
                                  const std::string& comment, const ScriptRetry& retry = {});

// For unmatched machines when the default is exit: iPXE returns to the firmware,
// which boots the next device (the local disk).
std::string render_exit_script(const std::string& comment);

// Escape applied to every {{variable}}; exposed for tests.
std::string ipxe_escape(const std::string& value);

}  // namespace ramfleet::inventory
