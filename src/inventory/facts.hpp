#pragma once
// What a booting machine tells us about itself (iPXE settings passed on the
// /ipxe query string), validated so that nothing a client sends can inject text
// into an iPXE script or a kernel command line.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/mac_address.hpp"

namespace ramfleet::inventory {

// The fact keys a selector can name. Labels are any other key=value pair.
enum class FactKey { mac, uuid, hostname, serial, arch, platform, manufacturer, product, buildarch };

std::string_view to_string(FactKey k);
std::optional<FactKey> fact_key_from_string(std::string_view s);
inline constexpr FactKey kAllFactKeys[] = {FactKey::mac,          FactKey::uuid,    FactKey::hostname,
                                           FactKey::serial,       FactKey::arch,    FactKey::platform,
                                           FactKey::manufacturer, FactKey::product, FactKey::buildarch};

struct MachineFacts {
  std::optional<MacAddress> mac;
  std::map<FactKey, std::string> values;      // normalised text, mac included ("52:54:00:..")
  std::map<std::string, std::string> labels;  // other query parameters

  [[nodiscard]] const std::string* get(FactKey k) const {
    auto it = values.find(k);
    return it == values.end() ? nullptr : &it->second;
  }
  [[nodiscard]] const std::string* label(const std::string& k) const {
    auto it = labels.find(k);
    return it == labels.end() ? nullptr : &it->second;
  }
  // Stable identity for the store and the API: the MAC, else "uuid-<uuid>".
  [[nodiscard]] std::optional<std::string> machine_id() const;
};

struct FactsError {
  std::string key;
  std::string reason;
};

// Builds facts from decoded query parameters. Rejects (with the offending key)
// control characters, over-long values, malformed MAC/UUID, and characters that
// mean something to iPXE or a shell ($ { } " ' \ and whitespace except spaces in
// manufacturer/product/serial). iPXE sends unset settings as empty strings:
// those are dropped.
struct FactsResult {
  MachineFacts facts;
  std::vector<FactsError> errors;
};
FactsResult facts_from_params(const std::vector<std::pair<std::string, std::string>>& params);

// Normalises a UUID to lower-case 8-4-4-4-12 form; nullopt if it is not one.
std::optional<std::string> normalise_uuid(std::string_view text);

}  // namespace ramfleet::inventory
