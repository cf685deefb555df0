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

// The script iPXE gets from DHCP: it chains to <base_url>/ipxe with every fact
// iPXE knows. The URL is absolute because older iPXE builds (the 2019 ROMs
// QEMU ships) fail relative chain URLs with "Operation not supported".
std::string render_boot_script(const std::string& base_url);

// kernel/initrd/boot for a profile. `uefi` adds initrd=<name> for each initrd
// (EFI stub kernels find their initrds by name). Asset names become
// <base_url>/assets/<name>; http(s):// and tftp:// URLs are kept.
std::string render_machine_script(const Profile& profile, const TemplateContext& ctx, bool uefi,
                                  const std::string& comment);

// For unmatched machines when the default is exit: iPXE returns to the firmware,
// which boots the next device (the local disk).
std::string render_exit_script(const std::string& comment);

// Escape applied to every {{variable}}; exposed for tests.
std::string ipxe_escape(const std::string& value);

}  // namespace ramfleet::inventory
