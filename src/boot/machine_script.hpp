#pragma once
// The variables a machine's iPXE script is rendered with: its facts, its
// group's metadata and its own config URLs (which carry a boot token when its
// config carries secrets). The rendering itself is inventory/ipxe_script.hpp.
#include <string>
#include <string_view>

#include "inventory/ipxe_script.hpp"

namespace ramfleet::boot {

// Variables for a machine: its facts, machine_id, mac_hyphen, group, profile,
// config, server (base URL) and assets (base URL of /assets). A non-empty
// `boot_token` ends every config URL ({{ignition_url}}, {{config_url}} ...).
// {{event_credential}} is `event_credential`: what the node shows when it
// reports its phases (event_credentials.hpp), for its kernel command line.
inventory::TemplateContext machine_context(const inventory::MachineFacts& facts, const inventory::Group* group,
                                           const inventory::Profile& profile, const std::string& base_url,
                                           std::string_view boot_token = {}, std::string_view event_credential = {});

}  // namespace ramfleet::boot
